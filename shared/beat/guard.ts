import { wallTime } from './zoned-time.ts';

/**
 * A check the worker makes before running a crontab task whose schedule fires on a superset of
 * Celery's days. Exactly one of the lists is set; days of week use Celery's numbering (0 = Sunday).
 */
export interface DayGuard {
  readonly timezone: string;
  readonly daysOfMonth?: readonly number[];
  readonly daysOfWeek?: readonly number[];
}

/**
 * Whether a run scheduled at `scheduledTime` (the Scheduler's `<aws.scheduler.scheduled-time>`,
 * not the time the message arrives) falls on a day the guard allows, read in the guard's timezone.
 */
export function guardAllows(guard: DayGuard, scheduledTime: Date): boolean {
  const local = wallTime(guard.timezone, scheduledTime);
  if (guard.daysOfMonth && !guard.daysOfMonth.includes(local.day)) return false;
  if (guard.daysOfWeek && !guard.daysOfWeek.includes(local.weekday)) return false;
  return true;
}
