/**
 * EventBridge Scheduler's cron dialect: `cron(minutes hours day-of-month month day-of-week year)`,
 * day of week 1-7 with 1 = Sunday, exactly one of the day fields `?`, and per field the wildcards
 * AWS documents (the EventBridge cron reference): `, - * /` for minutes, hours, day of month and
 * month; `, - * ? L #` for day of week — no `/` there. We write only `*`, `?`, numbers, `a-b`
 * ranges (never wrapping), `a/n` (a, a+n, ... to the end of the field) and `d#k`, and read back the
 * same subset, so `next-fire.ts` evaluates exactly the text we send.
 */

/** CreateSchedule's limit on `ScheduleExpression` (API reference: 1-256 characters). */
export const MAX_EXPRESSION_LENGTH = 256;

function runs(values: readonly number[]): { first: number; text: string }[] {
  const out: { first: number; text: string }[] = [];
  let i = 0;
  while (i < values.length) {
    let j = i;
    while (j + 1 < values.length && (values[j + 1] as number) === (values[j] as number) + 1) j++;
    const a = values[i] as number;
    const b = values[j] as number;
    if (j > i) out.push({ first: a, text: `${a}-${b}` });
    else for (let k = i; k <= j; k++) out.push({ first: values[k] as number, text: String(values[k]) });
    i = j + 1;
  }
  return out;
}

/**
 * The shortest text this dialect has for a sorted set of values in `[min, max]`: `*`, or a list of
 * numbers and ranges, with at most one `a/n` progression where the field allows steps (of four
 * values or more, or of three that are the whole set, so that short lists stay plain).
 */
export function compressField(
  values: readonly number[],
  min: number,
  max: number,
  allowStep: boolean,
): string {
  if (values.length === 0) throw new RangeError('an empty field has no cron text');
  if (values.length === max - min + 1) return '*';
  let best = runs(values)
    .map((r) => r.text)
    .join(',');
  if (!allowStep) return best;
  const present = new Set(values);
  for (const a of values) {
    for (let n = 2; a + n <= max; n++) {
      const progression: number[] = [];
      let inside = true;
      for (let v = a; v <= max; v += n) {
        if (!present.has(v)) {
          inside = false;
          break;
        }
        progression.push(v);
      }
      if (!inside || progression.length < 3 || (progression.length < 4 && progression.length < values.length))
        continue;
      const taken = new Set(progression);
      const parts = [{ first: a, text: `${a}/${n}` }, ...runs(values.filter((v) => !taken.has(v)))].sort(
        (x, y) => x.first - y.first,
      );
      const text = parts.map((p) => p.text).join(',');
      if (text.length < best.length) best = text;
    }
  }
  return best;
}

/** A parsed cron expression, ready to test dates and list times. Day of week here is 1-7, 1 = Sunday. */
export interface EventBridgeCron {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly months: ReadonlySet<number>;
  readonly daysOfMonth: ReadonlySet<number> | undefined;
  readonly daysOfWeek: ReadonlySet<number> | undefined;
  readonly nthWeekday: { weekday: number; nth: number } | undefined;
}

const NAMES: Record<string, number> = {
  SUN: 1,
  MON: 2,
  TUE: 3,
  WED: 4,
  THU: 5,
  FRI: 6,
  SAT: 7,
  JAN: 1,
  FEB: 2,
  MAR: 3,
  APR: 4,
  MAY: 5,
  JUN: 6,
  JUL: 7,
  AUG: 8,
  SEP: 9,
  OCT: 10,
  NOV: 11,
  DEC: 12,
};

function readValue(text: string, min: number, max: number): number {
  const value = /^\d+$/.test(text) ? Number(text) : NAMES[text.toUpperCase()];
  if (value === undefined || value < min || value > max) {
    throw new RangeError(`cron value ${JSON.stringify(text)} is outside ${min}-${max}`);
  }
  return value;
}

function readField(text: string, min: number, max: number): number[] {
  const values = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1) throw new RangeError(`bad cron step in ${JSON.stringify(part)}`);
    let from: number;
    let to: number;
    if (range === '*') {
      from = min;
      to = max;
    } else if (range.includes('-')) {
      const [a = '', b = ''] = range.split('-');
      from = readValue(a, min, max);
      to = readValue(b, min, max);
      if (to < from) throw new RangeError(`wrapping cron range ${JSON.stringify(part)} is not written here`);
    } else {
      from = readValue(range, min, max);
      to = stepText === undefined ? from : max;
    }
    for (let v = from; v <= to; v += step) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

/** Reads `cron(...)` as written by `translate.ts` (the subset described above). */
export function parseEventBridgeCron(expression: string): EventBridgeCron {
  const match = /^cron\((.*)\)$/.exec(expression);
  const fields = match?.[1]?.trim().split(/\s+/) ?? [];
  if (fields.length !== 6) throw new RangeError(`${JSON.stringify(expression)} is not a six-field cron()`);
  const [minute = '', hour = '', dom = '', month = '', dow = '', year = ''] = fields;
  if (year !== '*') throw new RangeError('only * is written in the year field');
  if ((dom === '?') === (dow === '?'))
    throw new RangeError('exactly one of day-of-month and day-of-week must be ?');
  let nthWeekday: EventBridgeCron['nthWeekday'];
  let daysOfWeek: Set<number> | undefined;
  if (dow.includes('#')) {
    const [w = '', k = ''] = dow.split('#');
    nthWeekday = { weekday: readValue(w, 1, 7), nth: readValue(k, 1, 5) };
  } else if (dow !== '?') {
    daysOfWeek = new Set(readField(dow, 1, 7));
  }
  return {
    minutes: readField(minute, 0, 59),
    hours: readField(hour, 0, 23),
    months: new Set(readField(month, 1, 12)),
    daysOfMonth: dom === '?' ? undefined : new Set(readField(dom, 1, 31)),
    daysOfWeek,
    nthWeekday,
  };
}

/** Whether a cron allows a calendar date; `weekday` is 0-6 with Sunday = 0. */
export function cronAllowsDate(cron: EventBridgeCron, month: number, day: number, weekday: number): boolean {
  if (!cron.months.has(month)) return false;
  if (cron.daysOfMonth && !cron.daysOfMonth.has(day)) return false;
  if (cron.daysOfWeek && !cron.daysOfWeek.has(weekday + 1)) return false;
  if (cron.nthWeekday) {
    if (cron.nthWeekday.weekday !== weekday + 1) return false;
    if (Math.ceil(day / 7) !== cron.nthWeekday.nth) return false;
  }
  return true;
}
