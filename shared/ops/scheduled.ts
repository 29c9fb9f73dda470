import {
  countOneTimeSchedules,
  deleteOneTimeSchedule,
  describeOneTimeSchedule,
  type OneTimeSchedule,
  oneTimeSchedulesOf,
} from '../producer/one-time-schedule.ts';
import type { OpsContext } from './context.ts';

/**
 * A send still waiting in a one-time Scheduler schedule (an eta or countdown past SQS's 15
 * minutes): no message is on a queue yet and, for a first attempt, no result row exists.
 */
export interface ScheduledSend {
  /** The schedule's name in the one-time group. */
  schedule: string;
  /** The attempt it sends (0 for the first run, N for the Nth retry). */
  retries: number;
  /** When it fires (UTC ISO). */
  eta?: string;
  /** The route queue it sends to, or its ARN when no route has it. */
  queue?: string;
  /** The task name, args and kwargs it will send, read from the schedule's Input. */
  task?: string;
  args?: unknown;
  kwargs?: unknown;
}

function groupOf(ctx: OpsContext): string | undefined {
  return ctx.config.scheduler?.groupName;
}

/** The route queue a target ARN names, if any. */
function routeOfArn(ctx: OpsContext, arn: string | undefined): string | undefined {
  return Object.entries(ctx.config.queues).find(([, q]) => q.arn === arn)?.[0];
}

function sendOf(ctx: OpsContext, schedule: OneTimeSchedule): ScheduledSend {
  let envelope: { task?: unknown; args?: unknown; kwargs?: unknown } = {};
  try {
    envelope = JSON.parse(schedule.body ?? '{}') as typeof envelope;
  } catch {
    // An Input that is not JSON still names a schedule worth showing and cancelling.
  }
  const queue = routeOfArn(ctx, schedule.queueArn) ?? schedule.queueArn;
  return {
    schedule: schedule.name,
    retries: schedule.retries,
    ...(schedule.at ? { eta: schedule.at } : {}),
    ...(queue ? { queue } : {}),
    ...(typeof envelope.task === 'string' ? { task: envelope.task } : {}),
    ...(envelope.args !== undefined ? { args: envelope.args } : {}),
    ...(envelope.kwargs !== undefined ? { kwargs: envelope.kwargs } : {}),
  };
}

/** The task's sends waiting in one-time schedules, first attempt first; none without a scheduler. */
export async function scheduledSendsOf(ctx: OpsContext, taskId: string): Promise<ScheduledSend[]> {
  const group = groupOf(ctx);
  if (!group || !taskId) return [];
  const { scheduler } = ctx.clients;
  const names = await oneTimeSchedulesOf(scheduler, group, taskId);
  const found = await Promise.all(names.map((n) => describeOneTimeSchedule(scheduler, group, n)));
  return found.filter((s): s is OneTimeSchedule => s !== undefined).map((s) => sendOf(ctx, s));
}

/** Deletes the task's one-time schedules; returns those it deleted (one gone meanwhile is not). */
export async function cancelScheduledSends(
  ctx: OpsContext,
  sends: readonly ScheduledSend[],
): Promise<ScheduledSend[]> {
  const group = groupOf(ctx);
  if (!group) return [];
  const deleted = await Promise.all(
    sends.map((s) => deleteOneTimeSchedule(ctx.clients.scheduler, group, s.schedule)),
  );
  return sends.filter((_, i) => deleted[i]);
}

/**
 * How many sends wait in one-time schedules for each route queue, counted from the schedules'
 * target ARNs (a schedule aimed at no route queue of this configuration is not counted).
 */
export async function scheduledCounts(ctx: OpsContext): Promise<Record<string, number>> {
  const counts = Object.fromEntries(Object.keys(ctx.config.queues).map((q) => [q, 0]));
  const group = groupOf(ctx);
  if (!group) return counts;
  for (const [arn, count] of await countOneTimeSchedules(ctx.clients.scheduler, group)) {
    const queue = routeOfArn(ctx, arn);
    if (queue) counts[queue] = (counts[queue] ?? 0) + count;
  }
  return counts;
}
