import { createHash, randomUUID } from 'node:crypto';
import { ValidationError } from '../errors.ts';
import type { TaskCall } from '../producer/call.ts';
import type { TaskListQuery } from '../results/listing.ts';
import type { TaskResultRecord } from '../results/record.ts';
import { TaskState } from '../task/states.ts';
import { nowOf, type OpsContext } from './context.ts';
import { NotFound, OperationFailed } from './errors.ts';
import { resultStore, sendTasks } from './tasks.ts';

/** The most failures one replay request re-sends; a larger set takes several (each dry-run first). */
export const MAX_REPLAY = 500;
/** Listing pages a replay reads at most to gather its set: bounded even when a filter drops most rows. */
const MAX_PAGES = 50;
const PAGE = 100;

/**
 * Like Flower's (and Celery's) re-send, a retry is a new task with a new id, the original's
 * arguments, queue and periodic task, `parentId` the original's id and `origin` who asked. The
 * original row keeps its FAILURE and gains `replayedAs` (the new id), once: a row is re-sent at
 * most once, so a replay run twice or two admins at once never double a task.
 */
function callOf(row: TaskResultRecord, origin: string): TaskCall | string {
  if (!row.taskName) return 'the row names no task';
  const cut = row.truncated?.filter((f) => f === 'args' || f === 'kwargs') ?? [];
  if (cut.length > 0) return `its ${cut.join(' and ')} were cut to fit the row: the original call is lost`;
  try {
    const args = row.args === undefined ? [] : JSON.parse(row.args);
    const kwargs = row.kwargs === undefined ? {} : JSON.parse(row.kwargs);
    if (!Array.isArray(args) || typeof kwargs !== 'object' || kwargs === null || Array.isArray(kwargs)) {
      return 'its args or kwargs are not a list and an object';
    }
    return {
      task: row.taskName,
      args,
      kwargs,
      taskId: randomUUID(),
      parentId: row.taskId,
      origin,
      ...(row.queue ? { queue: row.queue } : {}),
      ...(row.periodicTask ? { periodicTask: row.periodicTask } : {}),
    };
  } catch {
    return 'its args or kwargs are not JSON';
  }
}

export interface Resent {
  taskId: string;
  newTaskId: string;
}

export interface Skipped {
  taskId: string;
  reason: string;
}

/**
 * Marks each row, then sends the calls of the rows it marked in batches; a send that fails takes
 * its marks back, so the rows can be replayed again.
 */
async function resend(
  ctx: OpsContext,
  rows: readonly TaskResultRecord[],
  origin: string,
): Promise<{ sent: Resent[]; skipped: Skipped[] }> {
  const store = resultStore(ctx);
  const skipped: Skipped[] = [];
  const ready: { row: TaskResultRecord; call: TaskCall & { taskId: string } }[] = [];
  for (const row of rows) {
    const call = callOf(row, origin);
    if (typeof call === 'string') skipped.push({ taskId: row.taskId, reason: call });
    else ready.push({ row, call: call as TaskCall & { taskId: string } });
  }
  const marked: typeof ready = [];
  for (let i = 0; i < ready.length; i += 25) {
    const chunk = ready.slice(i, i + 25);
    const ok = await Promise.all(chunk.map(({ row, call }) => store.markReplayed(row.taskId, call.taskId)));
    chunk.forEach((entry, j) => {
      if (ok[j]) marked.push(entry);
      else skipped.push({ taskId: entry.row.taskId, reason: 'already re-sent, or no longer a FAILURE' });
    });
  }
  try {
    await sendTasks(
      ctx,
      marked.map((m) => m.call),
      { origin },
    );
  } catch (error) {
    await Promise.all(marked.map(({ row, call }) => store.unmarkReplayed(row.taskId, call.taskId)));
    throw error;
  }
  return { sent: marked.map(({ row, call }) => ({ taskId: row.taskId, newTaskId: call.taskId })), skipped };
}

/** Retries one FAILURE with its original arguments as a new task (see `callOf`). */
export async function retryTask(ctx: OpsContext, taskId: string, origin = 'admin'): Promise<Resent> {
  const row = await resultStore(ctx).get(taskId);
  if (!row) throw new NotFound('task', taskId);
  if (row.status !== TaskState.FAILURE) {
    throw new OperationFailed(`task ${taskId} is ${row.status}: only a FAILURE is retried`, {
      taskId,
      status: row.status,
    });
  }
  if (row.replayedAs) {
    throw new OperationFailed(`task ${taskId} was already re-sent as ${row.replayedAs}`, {
      taskId,
      replayedAs: row.replayedAs,
    });
  }
  const { sent, skipped } = await resend(ctx, [row], origin);
  const done = sent[0];
  if (!done) {
    throw new OperationFailed(`task ${taskId} was not retried: ${skipped[0]?.reason ?? 'unknown'}`, {
      taskId,
    });
  }
  return done;
}

export interface ReplayFilter {
  taskName?: string;
  periodicTask?: string;
  since?: Date;
  until?: Date;
  /**
   * @defaultValue 'dateCreated': read from the FAILURE (or the name's) partition, failures only; a
   * `dateDone` range reads every done row of the range (the `byDone` index) to find them.
   */
  timeField?: 'dateCreated' | 'dateDone';
}

export interface ReplayDryRun {
  dryRun: true;
  /** Failures that one confirmed request would re-send (at most `max`). */
  count: number;
  /** More failures match than one request re-sends: replay again after this one. */
  more: boolean;
  max: number;
  /** Give this back as `confirm` to re-send exactly these `count` failures. */
  confirm: string;
}

export interface ReplayReport {
  dryRun: false;
  /** How many were re-sent. */
  sent: number;
  resent: Resent[];
  skipped: Skipped[];
  more: boolean;
}

/** The FAILUREs a replay would re-send, newest first, up to `MAX_REPLAY`: index pages, never a scan. */
async function candidates(ctx: OpsContext, filter: ReplayFilter): Promise<{ ids: string[]; more: boolean }> {
  const store = resultStore(ctx);
  const now = nowOf(ctx);
  const query: TaskListQuery = {
    states: [TaskState.FAILURE],
    timeField: filter.timeField ?? 'dateCreated',
    notReplayed: true,
    limit: PAGE,
    ...(filter.taskName ? { taskName: filter.taskName } : {}),
    ...(filter.periodicTask ? { periodicTask: filter.periodicTask } : {}),
    ...(filter.since ? { since: filter.since } : {}),
    ...(filter.until ? { until: filter.until } : {}),
  };
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let page = 0; page < MAX_PAGES; page++) {
    const read = await store.list({ ...query, ...(cursor ? { cursor } : {}) }, now);
    ids.push(...read.items.map((item) => item.taskId));
    cursor = read.cursor;
    if (!cursor || ids.length > MAX_REPLAY) break;
  }
  return { ids: ids.slice(0, MAX_REPLAY), more: ids.length > MAX_REPLAY || cursor !== undefined };
}

function tokenOf(filter: ReplayFilter, ids: readonly string[]): string {
  const text = JSON.stringify({ filter, ids: [...ids].sort() });
  return createHash('sha256').update(text).digest('base64url').slice(0, 22);
}

/**
 * Bulk replay: re-sends every FAILURE matching the filter, not yet re-sent, newest first, at most
 * `MAX_REPLAY` a request. Without `confirm` it is a dry run: the count and a token. With the
 * token it re-sends that same set; a token for another set (failures came or went since, or
 * another filter) is refused with the new count and token, so what is sent is what was counted.
 */
export async function replayFailures(
  ctx: OpsContext,
  filter: ReplayFilter,
  options: { confirm?: string; origin?: string } = {},
): Promise<ReplayDryRun | ReplayReport> {
  if (filter.since && filter.until && filter.since >= filter.until) {
    throw ValidationError.of('since', 'must be before until');
  }
  const { ids, more } = await candidates(ctx, filter);
  const token = tokenOf(filter, ids);
  if (options.confirm === undefined) {
    return { dryRun: true, count: ids.length, more, max: MAX_REPLAY, confirm: token };
  }
  if (options.confirm !== token) {
    throw new OperationFailed(
      `confirm does not match the failures this filter finds now (${ids.length}): run the dry run again`,
      { count: ids.length, confirm: token },
    );
  }
  const rows = await resultStore(ctx).getMany(ids);
  const { sent, skipped } = await resend(ctx, rows, options.origin ?? 'admin');
  return { dryRun: false, sent: sent.length, resent: sent, skipped, more };
}
