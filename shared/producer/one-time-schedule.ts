import { createHash } from 'node:crypto';
import { ConflictException, CreateScheduleCommand, type SchedulerClient } from '@aws-sdk/client-scheduler';

export interface SchedulerTarget {
  groupName: string;
  roleArn: string;
  deadLetterArn?: string | undefined;
}

/** EventBridge Scheduler names: 1–64 of `[0-9a-zA-Z-_.]`. */
export function oneTimeScheduleName(taskId: string, retries: number): string {
  const name = `celerity-${taskId}-r${retries}`.replace(/[^0-9a-zA-Z\-_.]/g, '_');
  if (name.length <= 64) return name;
  return `celerity-${createHash('sha256').update(`${taskId}:${retries}`).digest('hex').slice(0, 40)}-r${retries}`;
}

/** `at()` takes local date-time text with no zone; the schedule's timezone is UTC. */
export function atExpression(when: Date): string {
  return `at(${new Date(Math.ceil(when.getTime() / 1000) * 1000).toISOString().slice(0, 19)})`;
}

/**
 * Sends a message later than SQS's 15-minute delay allows: a one-time schedule that puts the
 * envelope on the queue at `when` and then deletes itself. The name is derived from the task id
 * and attempt, so sending the same call twice makes one schedule.
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
    if (!(error instanceof ConflictException)) throw error;
  }
  return name;
}
