import { ValidationError } from '../errors.ts';
import { atExpression } from '../time/at.ts';
import { type CrontabSets, isFull, parseCrontab } from './crontab.ts';
import { type CrontabSchedule, type PeriodicTask, type ScheduleKind, scheduleKind } from './definition.ts';
import { compressField, MAX_EXPRESSION_LENGTH } from './expression/cron-text.ts';
import type { DayGuard } from './guard.ts';
import { type Expansion, ratePlan } from './interval.ts';
import { nextSolarEvent, SOLAR_SEARCH_DAYS } from './solar.ts';

/**
 * What one EventBridge Scheduler schedule must look like for a periodic task to run exactly when
 * Celery would run it. The sync Lambda writes `expression`, `timezone`, `startDate`, `endDate` and
 * `state` to the schedule and carries `guard` and `expansion` in the target's envelope.
 */
export interface SchedulePlan {
  readonly kind: ScheduleKind;
  /** `cron(...)`, `rate(...)` or `at(...)`. */
  readonly expression: string;
  /** `ScheduleExpressionTimezone`: the crontab's zone; 'UTC' for rate and at. */
  readonly timezone: string;
  readonly startDate?: Date;
  readonly endDate?: Date;
  readonly state: 'ENABLED' | 'DISABLED';
  /** Why a schedule that is enabled in the table is planned DISABLED. */
  readonly disabledBecause?: string;
  /** Crontab with both day fields restricted: the days the worker must check. */
  readonly guard?: DayGuard;
  /** Sub-minute or odd-second intervals: the messages the worker sends per trigger. */
  readonly expansion?: Expansion;
  /** Solar: the `at()` covers one event; after it runs, plan again from after that event. */
  readonly rearm?: true;
  /** The instant of an `at()` schedule. */
  readonly at?: Date;
  /** Disable the periodic task after its first run (django-celery-beat's `one_off`). */
  readonly oneOff: boolean;
}

export interface TranslateOptions {
  /** The time the plan is made at; solar events and start dates are found after it. */
  now: Date;
}

const MINUTE = 60_000;

/**
 * Celery runs a crontab only on days that match month AND day of month AND day of week (see
 * `crontab.remaining_delta` in celery/schedules.py: `execute_this_date` requires all three, and the
 * class docstring: "any day on which execution should occur must be represented by entries in all
 * three of the day and month attributes" — unlike Vixie cron, which ORs the two day fields).
 * EventBridge takes only one day field (the other is `?`), so when both are restricted we schedule
 * on the one that matches fewer days and return a guard holding the other.
 */
function crontabDays(sets: CrontabSets, timezone: string): { dom: string; dow: string; guard?: DayGuard } {
  const domFull = isFull('dayOfMonth', sets.dayOfMonth);
  const dowFull = isFull('dayOfWeek', sets.dayOfWeek);
  const domText = () => compressField(sets.dayOfMonth, 1, 31, true);
  const dowText = () =>
    compressField(
      sets.dayOfWeek.map((d) => d + 1),
      1,
      7,
      false,
    );
  if (dowFull) return { dom: domFull ? '*' : domText(), dow: '?' };
  if (domFull) return { dom: '?', dow: dowText() };

  // Days 1-7 (8-14, ...) of a month on one weekday are its first (second, ...) such weekday: exact as `d#k`.
  const week = [0, 1, 2, 3].find(
    (k) => sets.dayOfMonth.length === 7 && sets.dayOfMonth.every((d, i) => d === 7 * k + 1 + i),
  );
  if (week !== undefined && sets.dayOfWeek.length === 1) {
    return { dom: '?', dow: `${(sets.dayOfWeek[0] as number) + 1}#${week + 1}` };
  }
  let domDays = 0;
  let dowDays = 0;
  for (let t = Date.UTC(2024, 0, 1); t < Date.UTC(2028, 0, 1); t += 86_400_000) {
    const date = new Date(t);
    if (!sets.monthOfYear.includes(date.getUTCMonth() + 1)) continue;
    if (sets.dayOfMonth.includes(date.getUTCDate())) domDays++;
    if (sets.dayOfWeek.includes(date.getUTCDay())) dowDays++;
  }
  return domDays <= dowDays
    ? { dom: domText(), dow: '?', guard: { timezone, daysOfWeek: [...sets.dayOfWeek] } }
    : { dom: '?', dow: dowText(), guard: { timezone, daysOfMonth: [...sets.dayOfMonth] } };
}

/** The `cron()` expression and guard of a crontab, exact. */
export function translateCrontab(crontab: CrontabSchedule): { expression: string; guard?: DayGuard } {
  const sets = parseCrontab(crontab);
  const { dom, dow, guard } = crontabDays(sets, crontab.timezone);
  const minute = compressField(sets.minute, 0, 59, true);
  const hour = compressField(sets.hour, 0, 23, true);
  const month = compressField(sets.monthOfYear, 1, 12, true);
  const expression = `cron(${minute} ${hour} ${dom} ${month} ${dow} *)`;
  if (expression.length > MAX_EXPRESSION_LENGTH) {
    throw ValidationError.of(
      'crontab',
      `its EventBridge expression would be ${expression.length} characters, over the Scheduler's ${MAX_EXPRESSION_LENGTH}; use ranges or steps instead of long lists`,
    );
  }
  return guard ? { expression, guard } : { expression };
}

function later(a: Date, b: Date | undefined): Date {
  return b && b.getTime() > a.getTime() ? b : a;
}

function ceilMinute(t: number): number {
  return Math.ceil(t / MINUTE) * MINUTE;
}

/**
 * When an interval task runs first, as django-celery-beat decides it: `lastRunAt + every` once it
 * has run, else at `startTime`, else one interval after it was written (`dateChanged`). Never
 * before `startTime`; if that moment has passed, Celery runs at once, here on the next whole minute.
 * EventBridge works in whole minutes, so the first run moves up to a whole minute (at most 59 s
 * later); every run after it is exactly `every` apart.
 */
function intervalStart(definition: PeriodicTask, everySeconds: number, now: Date): Date {
  const every = everySeconds * 1000;
  const start = definition.startTime ? new Date(definition.startTime) : undefined;
  let first: number;
  if (definition.lastRunAt) first = Date.parse(definition.lastRunAt) + every;
  else if (start) first = start.getTime();
  else first = Date.parse(definition.dateChanged ?? now.toISOString()) + every;
  if (start) first = Math.max(first, start.getTime());
  return new Date(Math.max(ceilMinute(first), ceilMinute(now.getTime() + 1)));
}

/**
 * A periodic task as an EventBridge Scheduler schedule. Throws `ValidationError` (naming the
 * field) for what cannot be run exactly: see `ratePlan` for intervals, and solar events that do
 * not happen within a year at the place.
 */
export function translate(definition: PeriodicTask, options: TranslateOptions): SchedulePlan {
  const { now } = options;
  const kind = scheduleKind(definition);
  const expires = definition.expires ? new Date(definition.expires) : undefined;
  const startTime = definition.startTime ? new Date(definition.startTime) : undefined;
  let disabledBecause: string | undefined;
  if (!definition.enabled) disabledBecause = 'the periodic task is disabled';
  else if (expires && expires.getTime() <= now.getTime()) disabledBecause = 'it has expired';
  else if (definition.oneOff && definition.totalRunCount > 0) disabledBecause = 'it was one-off and has run';

  let body: Omit<SchedulePlan, 'kind' | 'state' | 'oneOff' | 'endDate' | 'disabledBecause'>;
  if (definition.crontab) {
    const { expression, guard } = translateCrontab(definition.crontab);
    body = {
      expression,
      timezone: definition.crontab.timezone,
      ...(startTime && startTime.getTime() > now.getTime() ? { startDate: startTime } : {}),
      ...(guard ? { guard } : {}),
    };
  } else if (definition.interval) {
    const rate = ratePlan(definition.interval);
    body = {
      expression: rate.expression,
      timezone: 'UTC',
      startDate: intervalStart(definition, rate.everySeconds, now),
      ...(rate.expansion ? { expansion: rate.expansion } : {}),
    };
  } else if (definition.solar) {
    const solar = definition.solar;
    const event = nextSolarEvent(solar, later(now, startTime));
    if (!event) {
      throw ValidationError.of(
        'solar',
        `no ${solar.event} happens within ${SOLAR_SEARCH_DAYS} days at latitude ${solar.latitude}, longitude ${solar.longitude}`,
      );
    }
    body = { expression: atExpression(event), timezone: 'UTC', at: event, rearm: true };
  } else {
    const at = new Date((definition.clocked as { clockedTime: string }).clockedTime);
    at.setUTCMilliseconds(0);
    if (!disabledBecause && at.getTime() <= now.getTime()) disabledBecause = 'its clocked time has passed';
    body = { expression: atExpression(at), timezone: 'UTC', at };
  }
  if (!disabledBecause && body.at && expires && body.at.getTime() >= expires.getTime()) {
    disabledBecause = 'it expires before its next run';
  }
  // EventBridge ignores an end date on at() schedules, and a past one has nothing to end.
  const endDate = expires && !body.at && !disabledBecause ? { endDate: expires } : {};
  return {
    kind,
    ...body,
    ...endDate,
    state: disabledBecause ? 'DISABLED' : 'ENABLED',
    ...(disabledBecause ? { disabledBecause } : {}),
    oneOff: definition.oneOff,
  };
}
