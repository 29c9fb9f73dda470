import { type CronSpec, cronMatchesDate, MAX_YEAR, parseCronExpression } from './cron-dialect.ts';
import { instantsOf, offsetAt, steadyOffsetForDay, wallTime } from './zoned-time.ts';

/**
 * When an EventBridge Scheduler schedule runs, from what GetSchedule returns: `cron()`, `rate()`
 * and `at()` in `ScheduleExpressionTimezone`, within `StartDate`/`EndDate`. Daylight saving as
 * `next-fire.ts` (and AWS's user guide): a cron time in the spring-forward gap is skipped, one in
 * the repeated hour runs once, at its first occurrence; `rate()` counts elapsed time, not wall time.
 */

export type ScheduleExpression =
  | { kind: 'cron'; cron: CronSpec }
  | { kind: 'rate'; periodMs: number }
  | { kind: 'at'; year: number; month: number; day: number; hour: number; minute: number; second: number };

export interface ScheduleTiming {
  expression: string;
  /** IANA name. @defaultValue `UTC` */
  timezone?: string | undefined;
  startDate?: Date | undefined;
  endDate?: Date | undefined;
  /** Anchors a `rate()` with no `StartDate`. */
  createdAt?: Date | undefined;
}

const MINUTE = 60_000;
const DAY = 86_400_000;
const UNITS: Record<string, number> = { minute: MINUTE, hour: 60 * MINUTE, day: DAY };

/** Reads a schedule expression; throws `RangeError` saying what is wrong with it. */
export function parseScheduleExpression(expression: string): ScheduleExpression {
  const text = expression.trim();
  if (text.startsWith('cron(')) return { kind: 'cron', cron: parseCronExpression(text) };
  const rate = /^rate\((\d+)\s+(minute|hour|day)s?\)$/.exec(text);
  if (rate) {
    const n = Number(rate[1]);
    if (n < 1) throw new RangeError(`${text}: the rate must be at least 1`);
    return { kind: 'rate', periodMs: n * (UNITS[rate[2] as string] as number) };
  }
  const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(text);
  if (at) {
    const [year, month, day, hour, minute, second] = at.slice(1).map(Number) as [
      number,
      number,
      number,
      number,
      number,
      number,
    ];
    const check = new Date(Date.UTC(year, month - 1, day, hour, minute, second));
    if (
      check.getUTCMonth() !== month - 1 ||
      check.getUTCDate() !== day ||
      hour > 23 ||
      minute > 59 ||
      second > 59
    ) {
      throw new RangeError(`${text} is not a valid date and time`);
    }
    return { kind: 'at', year, month, day, hour, minute, second };
  }
  throw new RangeError(`${JSON.stringify(expression)} is not a cron(), rate() or at() expression`);
}

/**
 * The instant an `at()` names in `timeZone`. A wall time in a spring-forward gap is read with the
 * offset before the gap (02:30 on the New York change day is 03:30 EDT): AWS documents nothing here,
 * and moving forward is what `Temporal`'s "compatible" choice does. A repeated time is its first.
 */
export function atInstant(at: Extract<ScheduleExpression, { kind: 'at' }>, timeZone: string): number {
  const [first] = instantsOf(timeZone, at.year, at.month, at.day, at.hour, at.minute);
  if (first !== undefined) return first + at.second * 1000;
  const asUtc = Date.UTC(at.year, at.month - 1, at.day, at.hour, at.minute, at.second);
  return asUtc - offsetAt(timeZone, asUtc - DAY);
}

/** The first cron time strictly after `after`, or undefined if there is none before `until`. */
function nextCronTime(cron: CronSpec, timeZone: string, after: number, until: number): number | undefined {
  const start = wallTime(timeZone, after - DAY);
  // A date-by-date walk: at most a few years of days even for `29 2` or a year list.
  for (let date = Date.UTC(start.year, start.month - 1, start.day); date <= until + DAY; date += DAY) {
    const d = new Date(date);
    const year = d.getUTCFullYear();
    if (year > MAX_YEAR) return undefined;
    if (cron.years && !cron.years.has(year)) {
      if (![...cron.years].some((y) => y > year)) return undefined;
      date = Date.UTC(year + 1, 0, 1) - DAY;
      continue;
    }
    const month = d.getUTCMonth() + 1;
    const day = d.getUTCDate();
    if (!cronMatchesDate(cron, year, month, day)) continue;
    const offset = steadyOffsetForDay(timeZone, year, month, day);
    for (const hour of cron.hours) {
      for (const minute of cron.minutes) {
        const t =
          offset !== undefined
            ? Date.UTC(year, month - 1, day, hour, minute) - offset
            : instantsOf(timeZone, year, month, day, hour, minute)[0];
        if (t !== undefined && t > after) return t < until ? t : undefined;
      }
    }
  }
  return undefined;
}

/**
 * The schedule's first run strictly after `after` (ms since the epoch), or undefined when it has
 * no more. `StartDate` and `EndDate` bound recurring schedules only: AWS ignores them for `at()`.
 * Pass `parsed` to skip reading the expression again.
 */
export function nextRunAfter(
  timing: ScheduleTiming,
  after: number,
  parsed: ScheduleExpression = parseScheduleExpression(timing.expression),
): number | undefined {
  const timeZone = timing.timezone || 'UTC';
  if (parsed.kind === 'at') {
    const t = atInstant(parsed, timeZone);
    return t > after ? t : undefined;
  }
  const start = timing.startDate?.getTime();
  const end = timing.endDate?.getTime() ?? Number.POSITIVE_INFINITY;
  const from = start === undefined ? after : Math.max(after, start - 1);
  if (parsed.kind === 'rate') {
    const anchor = start ?? timing.createdAt?.getTime();
    if (anchor === undefined)
      throw new RangeError('a rate() needs a StartDate or a creation time to count from');
    const k = Math.max(0, Math.floor((from - anchor) / parsed.periodMs) + 1);
    const t = anchor + k * parsed.periodMs;
    return t < end ? t : undefined;
  }
  const horizon = Math.min(end, from + 10 * 366 * DAY);
  return nextCronTime(parsed.cron, timeZone, from, horizon);
}

/** Up to `count` runs strictly after `after` (for tests, previews and the CLI). */
export function runsAfter(timing: ScheduleTiming, after: number, count: number): Date[] {
  const parsed = parseScheduleExpression(timing.expression);
  const out: Date[] = [];
  let t = nextRunAfter(timing, after, parsed);
  while (out.length < count && t !== undefined) {
    out.push(new Date(t));
    t = nextRunAfter(timing, t, parsed);
  }
  return out;
}
