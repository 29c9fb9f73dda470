import { isAwsError } from '../aws/errors.ts';
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
import { cancelScheduledSends, type ScheduledSend, scheduledSendsOf } from './scheduled.ts';

/** A result row for reading: args, kwargs and result parsed back from their JSON text. */
export type TaskView = Omit<TaskResultRecord, 'args' | 'kwargs' | 'result' | 'leaseToken'> & {
  args?: unknown;
  kwargs?: unknown;
  result?: unknown;
  /** Its next send, waiting in a one-time schedule (an eta past SQS's 15 minutes). */
  scheduled?: ScheduledSend;
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
 * Many calls, in chunks so a caller can show progress. Every call is validated (by the producer)
 * before the first chunk goes, so a bad call sends nothing (its error names `calls[i]`, `i` its
 * place in `calls`); each chunk goes with `SendMessageBatch`.
 */
export async function sendTasks(
  ctx: OpsContext,
  calls: readonly TaskCall[],
  options: { origin?: string; chunkSize?: number; onProgress?: (sent: number, total: number) => void } = {},
): Promise<SentTask[]> {
  const p = producer(ctx, options.origin);
  await p.check(calls);
  const size = options.chunkSize ?? 100;
  const sent: SentTask[] = [];
  for (let i = 0; i < calls.length; i += size) {
    sent.push(...(await p.sendMany(calls.slice(i, i + size))));
    options.onProgress?.(sent.length, calls.length);
  }
  return sent;
}

/** States in which a task may be waiting in a one-time schedule (its first send, or a retry). */
const WAITING_STATES: ReadonlySet<TaskState> = new Set([TaskState.PENDING, TaskState.RETRY]);

/**
 * A task's row, with its scheduled send if one waits in a one-time schedule. A task with no row
 * yet whose first send waits there reads as PENDING with `scheduled`, as Celery's AsyncResult
 * calls a task not run yet; one with neither is `NotFound` (queued but not picked up yet, never
 * sent, or past its expiry).
 */
export async function getTaskResult(ctx: OpsContext, taskId: string): Promise<TaskView> {
  const record = await resultStore(ctx).get(taskId);
  if (record && !WAITING_STATES.has(record.status)) return taskView(record);
  // Reading a result needs no Scheduler permission: without it, a row reads as it is.
  const sends = await scheduledSendsOf(ctx, taskId).catch((error: unknown) => {
    if (isAwsError(error, 'AccessDeniedException')) return [];
    throw error;
  });
  const scheduled = sends[sends.length - 1];
  if (record) return { ...taskView(record), ...(scheduled ? { scheduled } : {}) };
  if (!scheduled) {
    throw new NotFound(
      'task',
      taskId,
      'no result yet and no schedule holds it: queued but not picked up by a worker, never sent, or expired',
    );
  }
  return {
    taskId,
    status: TaskState.PENDING,
    ...(scheduled.task ? { taskName: scheduled.task } : {}),
    ...(scheduled.args !== undefined ? { args: scheduled.args } : {}),
    ...(scheduled.kwargs !== undefined ? { kwargs: scheduled.kwargs } : {}),
    ...(scheduled.queue ? { queue: scheduled.queue } : {}),
    ...(scheduled.eta ? { eta: scheduled.eta } : {}),
    retries: scheduled.retries,
    scheduled,
  };
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

export interface Revoked {
  taskId: string;
  status: typeof TaskState.REVOKED;
  /** The one-time schedules that held its sends (a far eta), deleted. */
  deletedSchedules: string[];
  /** When the REVOKED row expires (ISO): after the latest eta it was scheduled for. */
  expiresAt: string;
}

/**
 * Celery's `revoke`. The REVOKED row is written first and kept until the result expiry has passed
 * from the latest eta a one-time schedule holds for it, so a schedule that fires anyway (deleted
 * too late, or not at all) still finds it; then those schedules are deleted. A task that already
 * finished cannot be revoked: `OperationFailed` says so.
 */
export async function revokeTask(ctx: OpsContext, taskId: string): Promise<Revoked> {
  const now = nowOf(ctx);
  const sends = await scheduledSendsOf(ctx, taskId);
  const from = Math.max(now.getTime(), ...sends.map((s) => (s.eta ? Date.parse(s.eta) : 0)));
  const expiresAt = Math.ceil(from / 1000) + ctx.config.resultExpires;
  const outcome = await resultStore(ctx).revoke(taskId, { expiresAt, now });
  if (outcome !== 'revoked') {
    throw new OperationFailed(`task ${taskId} already finished with ${outcome}; nothing to revoke`, {
      taskId,
      status: outcome,
    });
  }
  let deleted: ScheduledSend[];
  try {
    deleted = await cancelScheduledSends(ctx, sends);
  } catch (error) {
    const names = sends.map((s) => s.schedule).join(', ');
    throw new OperationFailed(
      `task ${taskId} is revoked (its row outlives the eta, so a send that fires finds it), but its one-time schedule ${names} could not be deleted: ${(error as Error).message}`,
      { taskId, status: TaskState.REVOKED },
      { cause: error },
    );
  }
  return {
    taskId,
    status: TaskState.REVOKED,
    deletedSchedules: deleted.map((s) => s.schedule),
    expiresAt: new Date(expiresAt * 1000).toISOString(),
  };
}
