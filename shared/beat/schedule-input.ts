import type { CreateScheduleCommandInput } from '@aws-sdk/client-scheduler';
import { type BeatEnvelopeField, beatEnvelopeFieldSchema } from '../envelope/beat-field.ts';
import { ValidationError } from '../errors.ts';
import type { PeriodicTask } from './definition.ts';
import { scheduleName } from './naming.ts';
import type { SchedulePlan } from './translate.ts';

/** Context attributes the Scheduler substitutes in the target's static `Input` at each run. */
export const EXECUTION_ID = '<aws.scheduler.execution-id>';
export const SCHEDULED_TIME = '<aws.scheduler.scheduled-time>';

/** The Scheduler's limits: `Target.Input` up to 256 KB, `Description` up to 512 characters. */
export const MAX_INPUT_BYTES = 256 * 1024;
export const MAX_DESCRIPTION_LENGTH = 512;

/**
 * Delivery to SQS fails only transiently (throttling, KMS, a permission briefly missing during a
 * deploy), and the Scheduler backs off exponentially, so 10 attempts cover several minutes.
 * 15 minutes caps the lateness: the Scheduler's default (185 attempts over 24 h) would deliver a
 * 09:00 reminder in the evening, and Celery Beat itself never replays a missed tick. What still
 * fails lands in the dead-letter queue, where it can be inspected and replayed by hand.
 */
export const RETRY_POLICY = { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 900 } as const;

export interface ScheduleTarget {
  groupName: string;
  /** The SQS queue's ARN, or how to find it from the periodic task's `queue` (a route name). */
  queueArn: string | ((definition: PeriodicTask) => string);
  /** The role the Scheduler assumes: allowed only `sqs:SendMessage` on the task queues. */
  roleArn: string;
  deadLetterArn?: string;
  now: Date;
}

/** What CreateSchedule and UpdateSchedule take: both need the full definition. */
export type ScheduleRequest = CreateScheduleCommandInput & {
  Name: string;
  GroupName: string;
  ScheduleExpression: string;
  Target: NonNullable<CreateScheduleCommandInput['Target']> & { Input: string };
};

/**
 * What the Scheduler delivers from a static Input at one run: its context attributes filled in.
 * The local scheduler clock and the tests deliver through this, so they send what AWS would.
 */
export function renderInput(input: string, run: { executionId: string; scheduledTime: Date }): string {
  // The Scheduler gives the scheduled time in whole seconds, as ISO 8601 with a Z.
  const scheduled = `${run.scheduledTime.toISOString().slice(0, 19)}Z`;
  return input.replaceAll(EXECUTION_ID, run.executionId).replaceAll(SCHEDULED_TIME, scheduled);
}

/** The task envelope as the schedule's static Input, with the Scheduler's placeholders in it. */
export function envelopeInput(definition: PeriodicTask, plan: SchedulePlan): string {
  const beat: Record<string, unknown> = { scheduledAt: SCHEDULED_TIME };
  if (plan.guard) beat.guard = plan.guard;
  if (plan.expansion) beat.expansion = plan.expansion;
  if (plan.rearm) beat.rearm = true;
  if (plan.oneOff) beat.oneOff = true;
  if (definition.expireSeconds !== undefined) beat.expireSeconds = definition.expireSeconds;
  if (Object.keys(definition.headers).length) beat.headers = definition.headers;
  if (definition.priority !== undefined) beat.priority = definition.priority;
  // django-celery-beat sends `expire_seconds` in preference to `expires`; only the absolute one is static.
  const expires = definition.expireSeconds === undefined ? definition.expires : undefined;
  const envelope = {
    v: 1,
    id: EXECUTION_ID,
    task: definition.task,
    args: definition.args,
    kwargs: definition.kwargs,
    ...(definition.queue ? { queue: definition.queue } : {}),
    ...(expires ? { expires: new Date(expires).toISOString() } : {}),
    periodicTask: definition.name,
    origin: 'beat',
    beat,
  };
  return JSON.stringify(envelope);
}

/**
 * The CreateSchedule/UpdateSchedule request of a periodic task and its plan. Description names
 * the periodic task, since the schedule's own name is a slug and a hash. Throws `ValidationError`
 * when the envelope is larger than the Scheduler takes.
 */
export function scheduleRequest(
  definition: PeriodicTask,
  plan: SchedulePlan,
  target: ScheduleTarget,
): ScheduleRequest {
  const input = envelopeInput(definition, plan);
  if (Buffer.byteLength(input, 'utf8') > MAX_INPUT_BYTES) {
    throw ValidationError.of(
      'args',
      `the task message would be ${Buffer.byteLength(input, 'utf8')} bytes; the Scheduler takes at most ${MAX_INPUT_BYTES}`,
    );
  }
  const queueArn = typeof target.queueArn === 'string' ? target.queueArn : target.queueArn(definition);
  // The Scheduler refuses a StartDate more than 5 minutes in the past, and a past one changes nothing.
  const startDate =
    plan.startDate && plan.startDate.getTime() > target.now.getTime() ? plan.startDate : undefined;
  return {
    Name: scheduleName(definition.name),
    GroupName: target.groupName,
    ScheduleExpression: plan.expression,
    ScheduleExpressionTimezone: plan.timezone,
    ...(startDate ? { StartDate: startDate } : {}),
    ...(plan.endDate ? { EndDate: plan.endDate } : {}),
    State: plan.state,
    FlexibleTimeWindow: { Mode: 'OFF' },
    // Not DELETE: reconcile would recreate a self-deleted at() schedule and fire it again.
    ActionAfterCompletion: 'NONE',
    Description: scheduleDescription(definition.name),
    Target: {
      Arn: queueArn,
      RoleArn: target.roleArn,
      RetryPolicy: { ...RETRY_POLICY },
      ...(target.deadLetterArn ? { DeadLetterConfig: { Arn: target.deadLetterArn } } : {}),
      Input: input,
    },
  };
}

/**
 * The periodic task's full name (at most 200 characters, so it fits), not its `description`: the
 * console user needs the way back from a hashed schedule name to the table row, and copying the
 * free text (up to 2,000 characters) would cost a Scheduler call for every edit of it.
 */
export function scheduleDescription(name: string): string {
  return `Celerity periodic task: ${name}`.slice(0, MAX_DESCRIPTION_LENGTH);
}

export { type BeatEnvelopeField, beatEnvelopeFieldSchema };
