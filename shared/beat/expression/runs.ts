import { ScheduleExpressionError } from '../errors.ts';
import { instantsOf, offsetAt, steadyOffsetForDay } from '../zoned-time.ts';
import { type CronSpec, cronMatchesDate, daysInMonth, MAX_YEAR } from './cron.ts';
import { parseScheduleExpression, type ScheduleExpression } from './expression.ts';

/**
 * When an EventBridge Scheduler schedule runs: `cron()`, `rate()` and `at()` in
 * `ScheduleExpressionTimezone`, within `StartDate`/`EndDate` — what GetSchedule returns, or what
 * `translate` plans. Daylight saving as AWS's user guide has it ("Daylight saving time" under
 * schedule types): a cron time in the spring-forward gap is skipped; one in the repeated autumn
 * hour runs once (at its first occurrence: AWS says "once", the occurrence is our reading);
 * `rate()` counts elapsed time, so `rate(1 day)` moves an hour on the wall clock across a change.
 */
export interface ScheduleTiming {
  expression: string;
  /** IANA name. @defaultValue `UTC` */
  timezone?: string | undefined;
  startDate?: Date | undefined;
  endDate?: Date | undefined;
  /** Anchors a `rate()` with no `StartDate`: AWS starts such a schedule when it is created. */
  createdAt?: Date | undefined;
}

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;
/** No zone is further than 14 h from UTC, so a wall date's instants begin at most 14 h before its UTC midnight. */
const MAX_OFFSET = 14 * HOUR;

const offsets = new Map<string, number | null>();

/** `steadyOffsetForDay`, remembered: a year of minutes asks about each day over a thousand times. */
function dayOffset(timeZone: string, year: number, month: number, day: number): number | undefined {
  const key = `${timeZone} ${year}-${month}-${day}`;
  let offset = offsets.get(key);
  if (offset === undefined) {
    if (offsets.size >= 4096) offsets.clear();
    offset = steadyOffsetForDay(timeZone, year, month, day) ?? null;
    offsets.set(key, offset);
  }
  return offset ?? undefined;
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

/** The cron's times in `(after, until)`, ascending, walking wall dates and skipping months and years it never runs in. */
function* cronRuns(cron: CronSpec, timeZone: string, after: number, until: number): Generator<number> {
  const lastMinute = cron.minutes.at(-1) as number;
  const years = cron.years && [...cron.years].sort((a, b) => a - b);
  // The wall date at `after` is no earlier than the UTC date 14 hours before it.
  const start = new Date(after - MAX_OFFSET);
  let [year, month, day] = [start.getUTCFullYear(), start.getUTCMonth() + 1, start.getUTCDate()];
  while (year <= MAX_YEAR && Date.UTC(year, month - 1, day) - MAX_OFFSET < until) {
    if (years && !cron.years?.has(year)) {
      const next = years.find((y) => y > year);
      if (next === undefined) return;
      [year, month, day] = [next, 1, 1];
      continue;
    }
    if (cron.months.has(month) && cronMatchesDate(cron, year, month, day)) {
      const offset = dayOffset(timeZone, year, month, day);
      if (offset === undefined) {
        // A change of offset near this day: each wall time resolved on its own (none in a gap, the first of two).
        for (const hour of cron.hours) {
          for (const minute of cron.minutes) {
            const t = instantsOf(timeZone, year, month, day, hour, minute)[0];
            if (t === undefined || t <= after) continue;
            if (t >= until) return;
            yield t;
          }
        }
      } else {
        // One offset all day: the times ascend, so hours wholly at or before `after` are passed over.
        const midnight = Date.UTC(year, month - 1, day) - offset;
        const at = (hour: number, minute: number) => midnight + (hour * 60 + minute) * MINUTE;
        for (const hour of cron.hours) {
          if (at(hour, lastMinute) <= after) continue;
          for (const minute of cron.minutes) {
            const t = at(hour, minute);
            if (t <= after) continue;
            if (t >= until) return;
            yield t;
          }
        }
      }
    }
    if (!cron.months.has(month) || ++day > daysInMonth(year, month)) {
      day = 1;
      if (++month > 12) [year, month] = [year + 1, 1];
    }
  }
}

/**
 * The schedule's runs strictly after `after` (ms since the epoch), ascending, as long as the caller
 * asks. `StartDate` and `EndDate` bound recurring schedules only: AWS ignores them for `at()`.
 * Pass `parsed` to skip reading the expression again.
 */
export function* runsOf(
  timing: ScheduleTiming,
  after: number,
  parsed: ScheduleExpression = parseScheduleExpression(timing.expression),
): Generator<number> {
  const timeZone = timing.timezone || 'UTC';
  if (parsed.kind === 'at') {
    const t = atInstant(parsed, timeZone);
    if (t > after) yield t;
    return;
  }
  const start = timing.startDate?.getTime();
  const end = timing.endDate?.getTime() ?? Number.POSITIVE_INFINITY;
  const from = start === undefined ? after : Math.max(after, start - 1);
  if (parsed.kind === 'cron') {
    yield* cronRuns(parsed.cron, timeZone, from, end);
    return;
  }
  const anchor = start ?? timing.createdAt?.getTime();
  if (anchor === undefined) {
    throw new ScheduleExpressionError(
      timing.expression,
      'a rate() needs a StartDate or a creation time to count from',
    );
  }
  const k = Math.max(0, Math.floor((from - anchor) / parsed.periodMs) + 1);
  for (let t = anchor + k * parsed.periodMs; t < end; t += parsed.periodMs) yield t;
}

/** The schedule's first run strictly after `after`, or undefined when it has no more. */
export function nextRunAfter(
  timing: ScheduleTiming,
  after: number,
  parsed: ScheduleExpression = parseScheduleExpression(timing.expression),
): number | undefined {
  return runsOf(timing, after, parsed).next().value ?? undefined;
}

/** Up to `count` runs strictly after `after`. */
export function runsAfter(timing: ScheduleTiming, after: number, count: number): Date[] {
  const out: Date[] = [];
  if (count <= 0) return out;
  for (const t of runsOf(timing, after)) if (out.push(new Date(t)) >= count) break;
  return out;
}
