import { ScheduleExpressionError } from '../errors.ts';

/**
 * EventBridge Scheduler's cron dialect, all of it (the EventBridge cron reference):
 * `cron(minutes hours day-of-month month day-of-week year)`, names `JAN`-`DEC` and `SUN`-`SAT`
 * (1 = Sunday), `, - * /` in minutes, hours, month and year, `? L W` in day of month, `? L #` in
 * day of week (no `/` there), and exactly one of the day fields `?`. One reader for what
 * `translate.ts` writes and for what a user writes by hand into the Scheduler, so a schedule that
 * AWS would refuse is reported instead of silently never firing. Where AWS is silent, Quartz (which
 * the dialect follows) decides: ranges may wrap (`FRI-MON`), `L` alone in day of week is every
 * Saturday (the week's last day), `5L` is the month's last Thursday, `15W` never leaves the month.
 */

export type DayOfMonthRule =
  | { kind: 'days'; days: ReadonlySet<number> }
  | { kind: 'last'; offset: number }
  | { kind: 'lastWeekday' }
  | { kind: 'nearestWeekday'; day: number };

export type DayOfWeekRule =
  | { kind: 'days'; days: ReadonlySet<number> }
  | { kind: 'nth'; weekday: number; nth: number }
  | { kind: 'last'; weekday: number };

export interface CronSpec {
  readonly minutes: readonly number[];
  readonly hours: readonly number[];
  readonly months: ReadonlySet<number>;
  /** Undefined when every year is allowed. */
  readonly years: ReadonlySet<number> | undefined;
  readonly dayOfMonth: DayOfMonthRule | undefined;
  readonly dayOfWeek: DayOfWeekRule | undefined;
}

const MONTHS = ['JAN', 'FEB', 'MAR', 'APR', 'MAY', 'JUN', 'JUL', 'AUG', 'SEP', 'OCT', 'NOV', 'DEC'];
const WEEKDAYS = ['SUN', 'MON', 'TUE', 'WED', 'THU', 'FRI', 'SAT'];
export const MIN_YEAR = 1970;
export const MAX_YEAR = 2199;

interface FieldShape {
  name: string;
  min: number;
  max: number;
  names?: readonly string[];
  steps: boolean;
}

const FIELDS = {
  minutes: { name: 'minutes', min: 0, max: 59, steps: true },
  hours: { name: 'hours', min: 0, max: 23, steps: true },
  dayOfMonth: { name: 'day-of-month', min: 1, max: 31, steps: true },
  month: { name: 'month', min: 1, max: 12, names: MONTHS, steps: true },
  dayOfWeek: { name: 'day-of-week', min: 1, max: 7, names: WEEKDAYS, steps: false },
  year: { name: 'year', min: MIN_YEAR, max: MAX_YEAR, steps: true },
} as const satisfies Record<string, FieldShape>;

/** Reads the fields of one expression, so every refusal names the expression and its field. */
class FieldReader {
  constructor(readonly expression: string) {}

  fail(field: FieldShape, message: string): never {
    throw new ScheduleExpressionError(this.expression, message, field.name);
  }

  value(text: string, field: FieldShape): number {
    const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
    const v = named >= 0 ? named + 1 : /^\d+$/.test(text) ? Number(text) : Number.NaN;
    if (!(v >= field.min && v <= field.max)) {
      this.fail(field, `${JSON.stringify(text)} is not in ${field.min}-${field.max}`);
    }
    return v;
  }

  /** A list of values, ranges (wrapping past the end) and steps, as a sorted list. */
  list(text: string, field: FieldShape): number[] {
    const out = new Set<number>();
    for (const part of text.split(',')) {
      const [range = '', stepText, extra] = part.split('/');
      if (extra !== undefined || range === '') this.fail(field, `bad part ${JSON.stringify(part)}`);
      if (stepText !== undefined && !field.steps) this.fail(field, '/ is not allowed here');
      const step = stepText === undefined ? 1 : Number(stepText);
      if (!Number.isInteger(step) || step < 1) this.fail(field, `bad step in ${JSON.stringify(part)}`);
      let from: number;
      let to: number;
      if (range === '*') [from, to] = [field.min, field.max];
      else if (range.includes('-')) {
        const [a = '', b = '', more] = range.split('-');
        if (more !== undefined) this.fail(field, `bad range ${JSON.stringify(range)}`);
        [from, to] = [this.value(a, field), this.value(b, field)];
      } else {
        from = this.value(range, field);
        to = stepText === undefined ? from : field.max;
      }
      const span = field.max - field.min + 1;
      const length = ((to - from + span) % span) + 1;
      for (let i = 0; i < length; i += step) out.add(((from - field.min + i) % span) + field.min);
    }
    return [...out].sort((a, b) => a - b);
  }

  dayOfMonth(text: string): DayOfMonthRule | undefined {
    const field = FIELDS.dayOfMonth;
    if (text === '?') return undefined;
    if (text === 'LW') return { kind: 'lastWeekday' };
    const last = /^L(?:-(\d+))?$/.exec(text);
    if (last) {
      const offset = Number(last[1] ?? 0);
      if (offset > 30) this.fail(field, 'L-n takes n up to 30');
      return { kind: 'last', offset };
    }
    const weekday = /^(\d+)W$/.exec(text);
    if (weekday) return { kind: 'nearestWeekday', day: this.value(weekday[1] as string, field) };
    if (/[LW#]/i.test(text)) this.fail(field, `${JSON.stringify(text)} is not allowed`);
    return { kind: 'days', days: new Set(this.list(text, field)) };
  }

  dayOfWeek(text: string): DayOfWeekRule | undefined {
    const field = FIELDS.dayOfWeek;
    if (text === '?') return undefined;
    // Alone, `L` is the week's last day: every Saturday (Quartz), not the month's last Saturday.
    if (text === 'L') return { kind: 'days', days: new Set([7]) };
    const nth = /^(\w+)#(\d)$/.exec(text);
    if (nth) {
      const n = Number(nth[2]);
      if (n < 1 || n > 5) this.fail(field, '#n takes n of 1-5');
      return { kind: 'nth', weekday: this.value(nth[1] as string, field), nth: n };
    }
    const last = /^(\w+)L$/.exec(text);
    if (last) return { kind: 'last', weekday: this.value(last[1] as string, field) };
    return { kind: 'days', days: new Set(this.list(text, field)) };
  }
}

/** Reads any `cron(...)` EventBridge Scheduler takes; throws `ScheduleExpressionError` naming the field at fault. */
export function parseCronExpression(expression: string): CronSpec {
  const match = /^cron\((.*)\)$/.exec(expression.trim());
  const fields = match?.[1]?.trim().split(/\s+/) ?? [];
  if (fields.length !== 6) throw new ScheduleExpressionError(expression, 'is not a six-field cron()');
  const [minute = '', hour = '', dom = '', month = '', dow = '', year = ''] = fields;
  if ((dom === '?') === (dow === '?')) {
    throw new ScheduleExpressionError(expression, 'exactly one of day-of-month and day-of-week must be ?');
  }
  const read = new FieldReader(expression);
  return {
    minutes: read.list(minute, FIELDS.minutes),
    hours: read.list(hour, FIELDS.hours),
    months: new Set(read.list(month, FIELDS.month)),
    years: year === '*' ? undefined : new Set(read.list(year, FIELDS.year)),
    dayOfMonth: read.dayOfMonth(dom),
    dayOfWeek: read.dayOfWeek(dow),
  };
}

export const daysInMonth = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();
/** 1-7, Sunday = 1, as the dialect counts. */
const weekdayOf = (year: number, month: number, day: number) =>
  new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;

function nearestWeekday(year: number, month: number, day: number): number {
  const last = daysInMonth(year, month);
  const d = Math.min(day, last);
  const w = weekdayOf(year, month, d);
  if (w === 7) return d === 1 ? 3 : d - 1;
  if (w === 1) return d === last ? d - 2 : d + 1;
  return d;
}

/** Whether the calendar date (wall date in the schedule's zone) is one the cron runs on. */
export function cronMatchesDate(cron: CronSpec, year: number, month: number, day: number): boolean {
  if (cron.years && !cron.years.has(year)) return false;
  if (!cron.months.has(month)) return false;
  const last = daysInMonth(year, month);
  const dom = cron.dayOfMonth;
  if (dom?.kind === 'days' && !dom.days.has(day)) return false;
  if (dom?.kind === 'last' && day !== last - dom.offset) return false;
  if (dom?.kind === 'nearestWeekday' && day !== nearestWeekday(year, month, dom.day)) return false;
  if (dom?.kind === 'lastWeekday' && day !== nearestWeekday(year, month, last)) return false;
  const dow = cron.dayOfWeek;
  if (!dow) return true;
  const weekday = weekdayOf(year, month, day);
  if (dow.kind === 'days') return dow.days.has(weekday);
  if (weekday !== dow.weekday) return false;
  return dow.kind === 'nth' ? Math.ceil(day / 7) === dow.nth : day + 7 > last;
}
