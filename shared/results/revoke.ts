import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { isAwsError } from '../aws/errors.ts';
import {
  deleteOneTimeSchedule,
  describeOneTimeSchedule,
  type OneTimeSchedule,
  oneTimeSchedulesOf,
} from '../producer/one-time-schedule.ts';
import type { TaskState } from '../task/states.ts';
import { ScheduleCancelError } from './errors.ts';
import type { ResultStore } from './store.ts';

/** What a revoke needs: the result store, and the Scheduler group that holds far-eta sends. */
export interface RevokeDeps {
  store: ResultStore;
  /** Called only when `group` is set. */
  scheduler: () => SchedulerClient;
  /** The one-time schedule group (`config.scheduler.groupName`); none, no far-eta sends to find. */
  group: string | undefined;
  /** Seconds a REVOKED row lives past the latest eta it was scheduled for (`config.resultExpires`). */
  resultExpires: number;
  now?: Date;
}

export interface RevokeOutcome {
  /** `revoked`, or the state the task had already finished in (then nothing else was done). */
  outcome: 'revoked' | TaskState;
  /** The one-time schedules that held its sends (an eta past SQS's 15 minutes), found before the write. */
  schedules: OneTimeSchedule[];
  /** Those of them deleted (one that fired or went meanwhile is not). */
  deleted: OneTimeSchedule[];
  /** When the REVOKED row expires (epoch seconds). */
  expiresAt: number;
  /** The caller may not read the group's schedules (AccessDenied): the row lives from now, as without them. */
  schedulesUnread?: true;
}

async function schedulesOfTask(
  scheduler: SchedulerClient,
  group: string,
  taskId: string,
): Promise<OneTimeSchedule[]> {
  const names = await oneTimeSchedulesOf(scheduler, group, taskId);
  const found = await Promise.all(names.map((n) => describeOneTimeSchedule(scheduler, group, n)));
  return found.filter((s): s is OneTimeSchedule => s !== undefined);
}

/**
 * Celery's `revoke`, the one implementation behind `AsyncResult.revoke()` and the CLI and admin
 * API. The REVOKED row is written first and kept until the result expiry has passed from the
 * latest eta a one-time schedule holds for the task, so a schedule that fires anyway (deleted too
 * late, or not at all) still finds it; then those schedules are deleted. A task that already
 * finished is left as it is. Deleting a schedule that fails throws `ScheduleCancelError`, the
 * row written.
 */
export async function revokeTask(deps: RevokeDeps, taskId: string): Promise<RevokeOutcome> {
  const now = deps.now ?? new Date();
  let schedules: OneTimeSchedule[] = [];
  let unread = false;
  if (deps.group && taskId) {
    try {
      schedules = await schedulesOfTask(deps.scheduler(), deps.group, taskId);
    } catch (error) {
      // A producer given no Scheduler rights revokes as before: the row, from now.
      if (!isAwsError(error, 'AccessDeniedException')) throw error;
      unread = true;
    }
  }
  const from = Math.max(now.getTime(), ...schedules.map((s) => (s.at ? Date.parse(s.at) : 0)));
  const expiresAt = Math.ceil(from / 1000) + deps.resultExpires;
  const outcome = await deps.store.revoke(taskId, { expiresAt, now });
  const base = { outcome, schedules, expiresAt, ...(unread ? { schedulesUnread: true as const } : {}) };
  if (outcome !== 'revoked' || !deps.group || schedules.length === 0) return { ...base, deleted: [] };
  const group = deps.group;
  try {
    const gone = await Promise.all(
      schedules.map((s) => deleteOneTimeSchedule(deps.scheduler(), group, s.name)),
    );
    return { ...base, deleted: schedules.filter((_, i) => gone[i]) };
  } catch (error) {
    throw new ScheduleCancelError(
      taskId,
      schedules.map((s) => s.name),
      { cause: error },
    );
  }
}
