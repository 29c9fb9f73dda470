/**
 * EventBridge Scheduler's whole cron dialect, as a user may write it by hand (the EventBridge cron
 * reference): `cron(minutes hours day-of-month month day-of-week year)`, names `JAN`-`DEC` and
 * `SUN`-`SAT` (1 = Sunday), `, - * /` in minutes, hours, month and year, `? L W` in day of month,
 * `? L #` in day of week, and exactly one of the day fields `?`. `eventbridge-cron.ts` reads only
 * the subset `translate.ts` writes; this reads everything, for the local scheduler clock, so a
 * schedule moto accepted but AWS would refuse is reported instead of silently never firing.
 * Where AWS is silent, Quartz (which the dialect follows) decides: ranges may wrap (`FRI-MON`),
 * `L` alone in day of week is every Saturday, `5L` is the month's last Thursday, `15W` never leaves the month.
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

function value(text: string, field: FieldShape): number {
  const named = field.names?.indexOf(text.toUpperCase()) ?? -1;
  const v = named >= 0 ? named + 1 : /^\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!(v >= field.min && v <= field.max)) {
    throw new RangeError(`${field.name}: ${JSON.stringify(text)} is not in ${field.min}-${field.max}`);
  }
  return v;
}

/** A list of values, ranges (wrapping past the end) and steps, as a sorted list. */
function list(text: string, field: FieldShape): number[] {
  const out = new Set<number>();
  for (const part of text.split(',')) {
    const [range = '', stepText, extra] = part.split('/');
    if (extra !== undefined || range === '')
      throw new RangeError(`${field.name}: bad part ${JSON.stringify(part)}`);
    if (stepText !== undefined && !field.steps) throw new RangeError(`${field.name}: / is not allowed here`);
    const step = stepText === undefined ? 1 : Number(stepText);
    if (!Number.isInteger(step) || step < 1)
      throw new RangeError(`${field.name}: bad step in ${JSON.stringify(part)}`);
    let from: number;
    let to: number;
    if (range === '*') [from, to] = [field.min, field.max];
    else if (range.includes('-')) {
      const [a = '', b = '', more] = range.split('-');
      if (more !== undefined) throw new RangeError(`${field.name}: bad range ${JSON.stringify(range)}`);
      [from, to] = [value(a, field), value(b, field)];
    } else {
      from = value(range, field);
      to = stepText === undefined ? from : field.max;
    }
    const span = field.max - field.min + 1;
    const length = ((to - from + span) % span) + 1;
    for (let i = 0; i < length; i += step) out.add(((from - field.min + i) % span) + field.min);
  }
  return [...out].sort((a, b) => a - b);
}

function dayOfMonthRule(text: string): DayOfMonthRule | undefined {
  if (text === '?') return undefined;
  if (text === 'LW') return { kind: 'lastWeekday' };
  const last = /^L(?:-(\d+))?$/.exec(text);
  if (last) {
    const offset = Number(last[1] ?? 0);
    if (offset > 30) throw new RangeError('day-of-month: L-n takes n up to 30');
    return { kind: 'last', offset };
  }
  const weekday = /^(\d+)W$/.exec(text);
  if (weekday) return { kind: 'nearestWeekday', day: value(weekday[1] as string, FIELDS.dayOfMonth) };
  if (/[LW#]/i.test(text)) throw new RangeError(`day-of-month: ${JSON.stringify(text)} is not allowed`);
  return { kind: 'days', days: new Set(list(text, FIELDS.dayOfMonth)) };
}

function dayOfWeekRule(text: string): DayOfWeekRule | undefined {
  if (text === '?') return undefined;
  // Alone, `L` is the week's last day: every Saturday (Quartz), not the month's last Saturday.
  if (text === 'L') return { kind: 'days', days: new Set([7]) };
  const nth = /^(\w+)#(\d)$/.exec(text);
  if (nth) {
    const n = Number(nth[2]);
    if (n < 1 || n > 5) throw new RangeError('day-of-week: #n takes n of 1-5');
    return { kind: 'nth', weekday: value(nth[1] as string, FIELDS.dayOfWeek), nth: n };
  }
  const last = /^(\w+)L$/.exec(text);
  if (last) return { kind: 'last', weekday: value(last[1] as string, FIELDS.dayOfWeek) };
  return { kind: 'days', days: new Set(list(text, FIELDS.dayOfWeek)) };
}

/** Reads any `cron(...)` EventBridge Scheduler takes; throws `RangeError` naming the field at fault. */
export function parseCronExpression(expression: string): CronSpec {
  const match = /^cron\((.*)\)$/.exec(expression.trim());
  const fields = match?.[1]?.trim().split(/\s+/) ?? [];
  if (fields.length !== 6) throw new RangeError(`${JSON.stringify(expression)} is not a six-field cron()`);
  const [minute = '', hour = '', dom = '', month = '', dow = '', year = ''] = fields;
  if ((dom === '?') === (dow === '?')) {
    throw new RangeError('exactly one of day-of-month and day-of-week must be ?');
  }
  return {
    minutes: list(minute, FIELDS.minutes),
    hours: list(hour, FIELDS.hours),
    months: new Set(list(month, FIELDS.month)),
    years: year === '*' ? undefined : new Set(list(year, FIELDS.year)),
    dayOfMonth: dayOfMonthRule(dom),
    dayOfWeek: dayOfWeekRule(dow),
  };
}

const daysIn = (year: number, month: number) => new Date(Date.UTC(year, month, 0)).getUTCDate();
/** 1-7, Sunday = 1, as the dialect counts. */
const weekdayOf = (year: number, month: number, day: number) =>
  new Date(Date.UTC(year, month - 1, day)).getUTCDay() + 1;

function nearestWeekday(year: number, month: number, day: number): number {
  const last = daysIn(year, month);
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
  const last = daysIn(year, month);
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
