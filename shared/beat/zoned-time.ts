/**
 * Wall-clock time in an IANA zone with nothing but `Intl.DateTimeFormat` (no tz database of our own,
 * no moment/luxon in the Lambda bundle). Offsets are read from the runtime's ICU data, the same IANA
 * data EventBridge Scheduler resolves `ScheduleExpressionTimezone` names against.
 */

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

/** A wall-clock reading: month 1-12, weekday 0-6 with Sunday = 0 (Celery's numbering). */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number;
}

/** What the clocks in `timeZone` show at `instant`. */
export function wallTime(timeZone: string, instant: number | Date): WallTime {
  const t = typeof instant === 'number' ? instant : instant.getTime();
  const parts: Record<string, number> = {};
  for (const p of formatter(timeZone).formatToParts(t)) {
    if (p.type !== 'literal') parts[p.type] = Number(p.value);
  }
  const { year = 0, month = 1, day = 1, hour = 0, minute = 0, second = 0 } = parts;
  return {
    year,
    month,
    day,
    hour,
    minute,
    second,
    weekday: new Date(Date.UTC(year, month - 1, day)).getUTCDay(),
  };
}

/** Offset of `timeZone` from UTC at `instant`, in milliseconds (east positive). */
export function offsetAt(timeZone: string, instant: number): number {
  const whole = Math.floor(instant / 1000) * 1000;
  const w = wallTime(timeZone, whole);
  return Date.UTC(w.year, w.month - 1, w.day, w.hour, w.minute, w.second) - whole;
}

/**
 * The instants at which `timeZone`'s clocks show the given wall time: none in a spring-forward gap,
 * two (earlier first) in a repeated autumn hour, one otherwise.
 */
export function instantsOf(
  timeZone: string,
  year: number,
  month: number,
  day: number,
  hour: number,
  minute: number,
): number[] {
  const asUtc = Date.UTC(year, month - 1, day, hour, minute);
  // Real zones change offset at most once in any two days, so the offsets a day either side
  // are the only candidates.
  const candidates = new Set([offsetAt(timeZone, asUtc - DAY), offsetAt(timeZone, asUtc + DAY)]);
  const found: number[] = [];
  for (const offset of candidates) {
    const t = asUtc - offset;
    if (offsetAt(timeZone, t) === offset) found.push(t);
  }
  return found.sort((a, b) => a - b);
}

/**
 * The offset that holds for the whole local day, or `undefined` when the zone changes offset
 * near that day (then each time of the day must be resolved with `instantsOf`).
 */
export function steadyOffsetForDay(
  timeZone: string,
  year: number,
  month: number,
  day: number,
): number | undefined {
  const midnight = Date.UTC(year, month - 1, day);
  // ±14 h covers every zone's offset, so this window holds the whole local day wherever it falls.
  const before = offsetAt(timeZone, midnight - 14 * HOUR);
  const after = offsetAt(timeZone, midnight + DAY + 14 * HOUR);
  return before === after ? before : undefined;
}

// The zone check sits below the envelope, which validates `beat.guard.timezone` with it.
export { timeZoneProblem } from '../time/zone.ts';
