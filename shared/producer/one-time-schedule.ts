import { createHash } from 'node:crypto';
import { CreateScheduleCommand, GetScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';
import { isAwsError } from '../aws/errors.ts';
import { atExpression } from '../time/at.ts';
import { ScheduleConflict } from './errors.ts';

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
      throw new ScheduleConflict(options.taskId, name, { cause: error });
    }
  }
  return name;
}
