import { createHash } from 'node:crypto';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  type SchedulerClient,
  type ScheduleSummary,
} from '@aws-sdk/client-scheduler';
import { isAwsError } from '../aws/errors.ts';
import { atExpression } from '../time/at.ts';
import { ScheduleConflictError } from './errors.ts';

export interface SchedulerTarget {
  groupName: string;
  roleArn: string;
  deadLetterArn?: string | undefined;
}

/** EventBridge Scheduler's names: 1 to 64 of `[0-9a-zA-Z-_.]`. */
const NAME_MAX = 64;
const PREFIX = 'celerity-';
/** 64 bits of the id's SHA-256: distinct ids keep distinct names. */
const HASH_CHARS = 16;

/**
 * The schedule's name for one attempt of one task. An id that is already a valid name is used as
 * it is; any other (`job:1`, or too long) is shortened and given a hash of the whole id, so two ids
 * that sanitise alike (`job:1`, `job_1`) never share a schedule.
 */
export function oneTimeScheduleName(taskId: string, retries: number): string {
  const attempt = `-r${retries}`;
  const plain = `${PREFIX}${taskId}${attempt}`;
  if (/^[0-9a-zA-Z\-_.]+$/.test(plain) && plain.length <= NAME_MAX) return plain;
  const hash = createHash('sha256').update(taskId).digest('hex').slice(0, HASH_CHARS);
  const room = NAME_MAX - PREFIX.length - attempt.length - hash.length - 1;
  const readable = taskId.replace(/[^0-9a-zA-Z\-_.]/g, '_').slice(0, room);
  return `${PREFIX}${readable}-${hash}${attempt}`;
}

export { atExpression };

/** The envelope's identity: what it runs, not when it was sent or for when it asks. */
function sameTask(a: string | undefined, b: string): boolean {
  if (a === b) return true;
  try {
    const { sentAt: _s1, eta: _e1, ...left } = JSON.parse(a ?? 'null') as Record<string, unknown>;
    const { sentAt: _s2, eta: _e2, ...right } = JSON.parse(b) as Record<string, unknown>;
    return JSON.stringify(left) === JSON.stringify(right);
  } catch {
    return false;
  }
}

/**
 * Sends a message later than SQS's 15-minute delay allows: a one-time schedule that puts the
 * envelope on the queue at `when` and then deletes itself. The name is derived from the task id
 * and attempt, so sending the same task twice makes one schedule; a schedule of that name for a
 * different task or queue is a `ScheduleConflict`, never silently taken for this one.
 */
export async function createOneTimeSchedule(
  scheduler: SchedulerClient,
  target: SchedulerTarget,
  options: { taskId: string; retries: number; when: Date; queueArn: string; body: string },
): Promise<string> {
  const name = oneTimeScheduleName(options.taskId, options.retries);
  try {
    await scheduler.send(
      new CreateScheduleCommand({
        Name: name,
        GroupName: target.groupName,
        ScheduleExpression: atExpression(options.when),
        ScheduleExpressionTimezone: 'UTC',
        FlexibleTimeWindow: { Mode: 'OFF' },
        ActionAfterCompletion: 'DELETE',
        Description: `Celerity: ${options.taskId} (attempt ${options.retries})`,
        Target: {
          Arn: options.queueArn,
          RoleArn: target.roleArn,
          Input: options.body,
          RetryPolicy: { MaximumEventAgeInSeconds: 86_400, MaximumRetryAttempts: 185 },
          ...(target.deadLetterArn ? { DeadLetterConfig: { Arn: target.deadLetterArn } } : {}),
        },
      }),
    );
  } catch (error) {
    if (!isAwsError(error, 'ConflictException')) throw error;
    const existing = await scheduler.send(
      new GetScheduleCommand({ Name: name, GroupName: target.groupName }),
    );
    // The same task for the same queue: a re-send (a retry sent again after a crash, a repeated
    // call). Its first schedule stands, whatever time this one asked for.
    if (existing.Target?.Arn !== options.queueArn || !sameTask(existing.Target?.Input, options.body)) {
      throw new ScheduleConflictError(options.taskId, name, { cause: error });
    }
  }
  return name;
}

/** A one-time schedule as it stands: when it fires and where it sends. */
export interface OneTimeSchedule {
  name: string;
  /** The attempt the name was made for (`-rN`). */
  retries: number;
  /** When it fires (UTC ISO), read from its `at()` expression. */
  at?: string;
  queueArn?: string;
  /** The envelope it will send, as it stands in the schedule's Input. */
  body?: string;
}

/** Every schedule summary of the group (with a name prefix, those alone), paged to the end. */
async function* schedulesOf(
  scheduler: SchedulerClient,
  groupName: string,
  namePrefix?: string,
): AsyncGenerator<ScheduleSummary> {
  let token: string | undefined;
  do {
    const page = await scheduler.send(
      new ListSchedulesCommand({
        GroupName: groupName,
        MaxResults: 100,
        ...(namePrefix ? { NamePrefix: namePrefix } : {}),
        ...(token ? { NextToken: token } : {}),
      }),
    );
    yield* page.Schedules ?? [];
    token = page.NextToken;
  } while (token);
}

/** The characters of a task id that begin every name made for it, whatever the attempt. */
const COMMON_PREFIX_CHARS = 20;

/**
 * The names of every one-time schedule made for this task (any attempt), found by name prefix
 * and then matched exactly, so `job-1` never claims `job-10`'s schedules.
 */
export async function oneTimeSchedulesOf(
  scheduler: SchedulerClient,
  groupName: string,
  taskId: string,
): Promise<{ name: string; retries: number }[]> {
  const prefix = `${PREFIX}${taskId.replace(/[^0-9a-zA-Z\-_.]/g, '_').slice(0, COMMON_PREFIX_CHARS)}`;
  const found: { name: string; retries: number }[] = [];
  for await (const { Name } of schedulesOf(scheduler, groupName, prefix)) {
    const attempt = /-r(\d+)$/.exec(Name ?? '');
    const retries = Number(attempt?.[1]);
    if (Name && attempt && oneTimeScheduleName(taskId, retries) === Name) found.push({ name: Name, retries });
  }
  return found.sort((a, b) => a.retries - b.retries);
}

/** A request's answer, or undefined when the schedule it names is gone. */
async function unlessGone<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (isAwsError(error, 'ResourceNotFoundException')) return undefined;
    throw error;
  }
}

/** One schedule's time, target and Input; undefined if it is gone (fired, or deleted meanwhile). */
export async function describeOneTimeSchedule(
  scheduler: SchedulerClient,
  groupName: string,
  schedule: { name: string; retries: number },
): Promise<OneTimeSchedule | undefined> {
  const got = await unlessGone(
    scheduler.send(new GetScheduleCommand({ Name: schedule.name, GroupName: groupName })),
  );
  if (!got) return undefined;
  const at = /^at\((.+)\)$/.exec(got.ScheduleExpression ?? '')?.[1];
  const when = at ? new Date(`${at}Z`) : undefined;
  return {
    ...schedule,
    ...(when && !Number.isNaN(when.getTime()) ? { at: when.toISOString() } : {}),
    ...(got.Target?.Arn ? { queueArn: got.Target.Arn } : {}),
    ...(got.Target?.Input ? { body: got.Target.Input } : {}),
  };
}

/** Deletes a one-time schedule; false if it was already gone. */
export async function deleteOneTimeSchedule(
  scheduler: SchedulerClient,
  groupName: string,
  name: string,
): Promise<boolean> {
  const deleted = await unlessGone(
    scheduler.send(new DeleteScheduleCommand({ Name: name, GroupName: groupName })),
  );
  return deleted !== undefined;
}

/**
 * How many one-time schedules the group holds for each target ARN, paged to the end. The
 * summaries carry the target's ARN, so nothing is read schedule by schedule.
 */
export async function countOneTimeSchedules(
  scheduler: SchedulerClient,
  groupName: string,
): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for await (const { Target } of schedulesOf(scheduler, groupName)) {
    const arn = Target?.Arn ?? '';
    counts.set(arn, (counts.get(arn) ?? 0) + 1);
  }
  return counts;
}
