import type { GetScheduleCommandOutput } from '@aws-sdk/client-scheduler';
import {
  nextRunAfter,
  parseScheduleExpression,
  type ScheduleExpression,
  type ScheduleTiming,
} from '../../shared/beat/expression/index.ts';
import { sqsArnParts } from './scheduler-delivery.ts';

/** A schedule as the clock reads it from GetSchedule: when it runs, or why it cannot run here. */
export interface ClockSchedule {
  detail: GetScheduleCommandOutput;
  timing: ScheduleTiming;
  parsed?: ScheduleExpression;
  problem?: string;
}

/** Reads GetSchedule's answer with the one expression engine; `modifiedAt` anchors a rate() with no StartDate. */
export function readSchedule(detail: GetScheduleCommandOutput, modifiedAt: number): ClockSchedule {
  const schedule: ClockSchedule = {
    detail,
    timing: {
      expression: detail.ScheduleExpression ?? '',
      timezone: detail.ScheduleExpressionTimezone,
      startDate: detail.StartDate,
      endDate: detail.EndDate,
      createdAt: detail.CreationDate ?? new Date(modifiedAt),
    },
  };
  try {
    schedule.parsed = parseScheduleExpression(schedule.timing.expression);
    if (!sqsArnParts(detail.Target?.Arn ?? '')) {
      schedule.problem = `its target ${detail.Target?.Arn} is not an SQS queue; the local clock delivers only to SQS`;
    }
  } catch (error) {
    schedule.problem = (error as Error).message;
  }
  return schedule;
}

/**
 * The run the clock fires next, strictly after `after` (the last one fired, or the moment it began
 * watching). None for a schedule that cannot run or is DISABLED; moto drops State on an
 * UpdateSchedule that leaves it out, and AWS's default then is ENABLED. Throws for a time zone the
 * runtime does not know.
 */
export function nextDue(schedule: ClockSchedule, after: number): number | undefined {
  if (schedule.problem || !schedule.parsed || schedule.detail.State === 'DISABLED') return undefined;
  return nextRunAfter(schedule.timing, after, schedule.parsed);
}
