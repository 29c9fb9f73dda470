import { isAwsError } from '../aws/errors.ts';
import { ValidationError } from '../errors.ts';
import type { TaskCall } from '../producer/call.ts';
import { ResultTimeoutError, type SentTask } from '../producer/errors.ts';
import { Producer } from '../producer/producer.ts';
import { ScheduleCancelError } from '../results/errors.ts';
import type { TaskSummary } from '../results/indexes.ts';
import type { TaskListPage, TaskListQuery } from '../results/listing.ts';
import type { TaskResultRecord } from '../results/record.ts';
import { type RevokeOutcome, revokeTask as revokeOne } from '../results/revoke.ts';
import { ResultStore } from '../results/store.ts';
import { READY_STATES, TaskState } from '../task/states.ts';
import { nowOf, type OpsContext } from './context.ts';
import { NotFoundError, OperationFailedError } from './errors.ts';
import { type ScheduledSend, scheduledSendsOf } from './scheduled.ts';

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
 * Flower's async-apply: like `sendTask`, but only a task this app registers (`NotRegistered`
 * otherwise), so a typo is refused rather than queued for a worker that cannot run it.
 */
export function applyTask(ctx: OpsContext, call: TaskCall, origin?: string): Promise<SentTask> {
  ctx.registry.require(call.task);
  return sendTask(ctx, call, origin);
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
    throw new NotFoundError(
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
      throw new ResultTimeoutError(taskId, options.timeoutSeconds, record?.status ?? TaskState.PENDING);
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
      // No states: a run may show a custom one (`ctx.updateState`); the lease says it is active.
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
 * Celery's `revoke`, as `AsyncResult.revoke()` does it (`shared/results/revoke.ts`: the REVOKED row
 * outlives the latest eta, then the one-time schedules are deleted), with the outcome said: a task
 * that already finished cannot be revoked, and `OperationFailed` says so, as it does when its
 * schedules could not be read or deleted.
 */
export async function revokeTask(ctx: OpsContext, taskId: string): Promise<Revoked> {
  let revoked: RevokeOutcome;
  try {
    revoked = await revokeOne(
      {
        store: resultStore(ctx),
        scheduler: () => ctx.clients.scheduler,
        group: ctx.config.scheduler?.groupName,
        resultExpires: ctx.config.resultExpires,
        now: nowOf(ctx),
      },
      taskId,
    );
  } catch (error) {
    if (!(error instanceof ScheduleCancelError)) throw error;
    throw new OperationFailedError(error.message, { taskId, status: TaskState.REVOKED }, { cause: error });
  }
  if (revoked.outcome !== 'revoked') {
    throw new OperationFailedError(
      `task ${taskId} already finished with ${revoked.outcome}; nothing to revoke`,
      {
        taskId,
        status: revoked.outcome,
      },
    );
  }
  if (revoked.schedulesUnread) {
    throw new OperationFailedError(
      `task ${taskId} is revoked, but its one-time schedules could not be read (access denied): a far eta's schedule may remain, and its row expires ${ctx.config.resultExpires} s from now`,
      { taskId, status: TaskState.REVOKED },
    );
  }
  return {
    taskId,
    status: TaskState.REVOKED,
    deletedSchedules: revoked.deleted.map((s) => s.name),
    expiresAt: new Date(revoked.expiresAt * 1000).toISOString(),
  };
}
