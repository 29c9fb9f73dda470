import { ValidationError } from '../errors.ts';
import type { TaskCall } from '../producer/call.ts';
import { ResultTimeout, type SentTask } from '../producer/errors.ts';
import { Producer } from '../producer/producer.ts';
import type { TaskSummary } from '../results/indexes.ts';
import type { TaskListPage, TaskListQuery } from '../results/listing.ts';
import type { TaskResultRecord } from '../results/record.ts';
import { ResultStore } from '../results/store.ts';
import { READY_STATES, TaskState } from '../task/states.ts';
import { nowOf, type OpsContext } from './context.ts';
import { NotFound, OperationFailed } from './errors.ts';

/** A result row for reading: args, kwargs and result parsed back from their JSON text. */
export type TaskView = Omit<TaskResultRecord, 'args' | 'kwargs' | 'result' | 'leaseToken'> & {
  args?: unknown;
  kwargs?: unknown;
  result?: unknown;
};

export function taskView(record: TaskResultRecord): TaskView {
  const { leaseToken: _token, args, kwargs, result, ...rest } = record;
  return {
    ...rest,
    ...(args !== undefined ? { args: parseLoose(args) } : {}),
    ...(kwargs !== undefined ? { kwargs: parseLoose(kwargs) } : {}),
    ...(result !== undefined ? { result: parseLoose(result) } : {}),
  };
}

/** Text cut to fit the item limit is no longer JSON; show it as the text it is. */
function parseLoose(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

export function resultStore(ctx: OpsContext): ResultStore {
  if (!ctx.config.resultsTable) {
    throw ValidationError.of('config.resultsTable', 'is not set: this target keeps no results');
  }
  return new ResultStore({ dynamo: ctx.clients.dynamo, table: ctx.config.resultsTable });
}

export function producer(ctx: OpsContext, origin?: string): Producer {
  return new Producer({
    config: ctx.config,
    sqs: ctx.clients.sqs,
    scheduler: ctx.clients.scheduler,
    registry: ctx.registry,
    ...(origin ? { origin } : {}),
  });
}

/** Celery's `apply_async` by name. */
export function sendTask(ctx: OpsContext, call: TaskCall, origin?: string): Promise<SentTask> {
  return producer(ctx, origin).send(call);
}

/**
 * Many calls, in chunks so a caller can show progress; every call is validated (by the producer)
 * before its chunk goes, and each chunk goes with `SendMessageBatch`.
 */
export async function sendTasks(
  ctx: OpsContext,
  calls: readonly TaskCall[],
  options: { origin?: string; chunkSize?: number; onProgress?: (sent: number, total: number) => void } = {},
): Promise<SentTask[]> {
  const p = producer(ctx, options.origin);
  const size = options.chunkSize ?? 100;
  const sent: SentTask[] = [];
  for (let i = 0; i < calls.length; i += size) {
    sent.push(...(await p.sendMany(calls.slice(i, i + size))));
    options.onProgress?.(sent.length, calls.length);
  }
  return sent;
}

/** A task's row, or `NotFound` (never sent, not picked up yet, or past its expiry). */
export async function getTaskResult(ctx: OpsContext, taskId: string): Promise<TaskView> {
  const record = await resultStore(ctx).get(taskId);
  if (!record) {
    throw new NotFound('task', taskId, 'no result yet: not picked up by a worker, never sent, or expired');
  }
  return taskView(record);
}

/**
 * Waits for a ready state (SUCCESS, FAILURE, REVOKED), as `AsyncResult.get()` does, and returns the
 * row whatever the state; a caller decides what a failure means. Throws `ResultTimeout`.
 */
export async function waitForResult(
  ctx: OpsContext,
  taskId: string,
  options: { timeoutSeconds?: number; intervalMs?: number } = {},
): Promise<TaskView> {
  const store = resultStore(ctx);
  const interval = options.intervalMs ?? 500;
  const started = Date.now();
  for (;;) {
    const record = await store.get(taskId);
    if (record && READY_STATES.has(record.status)) return taskView(record);
    const waited = Date.now() - started;
    if (options.timeoutSeconds !== undefined && waited >= options.timeoutSeconds * 1000) {
      throw new ResultTimeout(taskId, options.timeoutSeconds, record?.status ?? TaskState.PENDING);
    }
    const left = options.timeoutSeconds === undefined ? interval : options.timeoutSeconds * 1000 - waited;
    await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(interval, left))));
  }
}

/** Flower's task list: summaries by state or by name, newest first, a page at a time. */
export function listTaskResults(ctx: OpsContext, query: TaskListQuery): Promise<TaskListPage> {
  return resultStore(ctx).list(query, nowOf(ctx));
}

/** Celery's `inspect active`: tasks a run holds right now, whatever state the row shows. */
export async function activeTasks(ctx: OpsContext, options: { limit?: number } = {}): Promise<TaskSummary[]> {
  const now = nowOf(ctx);
  const page = await resultStore(ctx).list(
    {
      states: [TaskState.STARTED, TaskState.PENDING, TaskState.RETRY],
      activeAt: now.getTime(),
      limit: options.limit ?? 100,
    },
    now,
  );
  return page.items;
}

/** Celery's `revoke`. A task that already finished cannot be revoked: `OperationFailed` says so. */
export async function revokeTask(
  ctx: OpsContext,
  taskId: string,
): Promise<{ taskId: string; status: string }> {
  const now = nowOf(ctx);
  const outcome = await resultStore(ctx).revoke(taskId, {
    expiresAt: Math.floor(now.getTime() / 1000) + ctx.config.resultExpires,
    now,
  });
  if (outcome !== 'revoked') {
    throw new OperationFailed(`task ${taskId} already finished with ${outcome}; nothing to revoke`, {
      taskId,
      status: outcome,
    });
  }
  return { taskId, status: TaskState.REVOKED };
}
