/**
 * Celery's crontab syntax, read the way `celery.schedules.crontab_parser` reads it (Celery 5.x):
 *
 * - a field is a comma-separated list of parts; an empty part is an error;
 * - a part is `*`, `*∕step`, a number, `from-to` or `from-to∕step`;
 * - a range whose end is below its start wraps around the field (`fri-mon` is 5,6,0,1; `22-2` is
 *   22,23,0,1,2);
 * - a step keeps every step-th value of the expanded part, in order (`22-2∕2` is 22,0,2; `*∕3` in
 *   day of month is 1,4,...,31);
 * - day of week is 0-6 with Sunday = 0; `7` is refused, as Celery refuses it;
 * - names are day names only (`weekday()` in celery/utils/time.py looks up the first three letters);
 *   Celery has no month names: it reads `jan` as a weekday name and fails.
 *
 * Where Celery's regular expressions accept text by accident, this parser refuses it with a reason
 * instead of guessing: `1-5-7` (Celery silently reads 1-5), `*∕5∕2` (Celery reads *∕5), day names
 * in fields other than dayOfWeek (Celery reads hour='mon' as 1), words that merely start like a day
 * name (`monkey`), and Python `int()` spellings such as `+5` or `1_0`. Spaces around a part are
 * allowed (Celery allows them around plain numbers).
 */

import { CrontabSyntaxError } from './errors.ts';

export type CrontabField = 'minute' | 'hour' | 'dayOfWeek' | 'dayOfMonth' | 'monthOfYear';

interface FieldSpec {
  readonly min: number;
  readonly max: number;
}

export const CRONTAB_FIELDS: Readonly<Record<CrontabField, FieldSpec>> = {
  minute: { min: 0, max: 59 },
  hour: { min: 0, max: 23 },
  dayOfWeek: { min: 0, max: 6 },
  dayOfMonth: { min: 1, max: 31 },
  monthOfYear: { min: 1, max: 12 },
};

const DAY_NAMES = ['sunday', 'monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday'];
const MONTH_ABBREVIATIONS = [
  'jan',
  'feb',
  'mar',
  'apr',
  'may',
  'jun',
  'jul',
  'aug',
  'sep',
  'oct',
  'nov',
  'dec',
];

/** The allowed values of each field, sorted ascending. Day of week uses Celery's numbering (0 = Sunday). */
export interface CrontabSets {
  readonly minute: readonly number[];
  readonly hour: readonly number[];
  readonly dayOfWeek: readonly number[];
  readonly dayOfMonth: readonly number[];
  readonly monthOfYear: readonly number[];
}

const TOKEN = '[A-Za-z0-9]+';
const PART = new RegExp(String.raw`^(?:(\*)|(${TOKEN})(?:-(${TOKEN}))?)(?:/(\S*))?$`);

function dayNumber(word: string): number | undefined {
  const lower = word.toLowerCase();
  if (lower.length < 3) return undefined;
  const index = DAY_NAMES.findIndex((name) => name.startsWith(lower));
  return index === -1 ? undefined : index;
}

function readNumber(field: CrontabField, token: string, part: string): number {
  const { min, max } = CRONTAB_FIELDS[field];
  let value: number;
  if (/^\d+$/.test(token)) {
    value = Number(token);
  } else {
    const day = dayNumber(token);
    if (day !== undefined && field === 'dayOfWeek') {
      value = day;
    } else if (day !== undefined) {
      throw new CrontabSyntaxError(field, `"${part}": day names are only allowed in dayOfWeek`);
    } else if (field === 'monthOfYear' && MONTH_ABBREVIATIONS.includes(token.slice(0, 3).toLowerCase())) {
      throw new CrontabSyntaxError(
        field,
        `"${part}": month names are not part of Celery's crontab syntax (Celery fails on them); use 1-12`,
      );
    } else {
      const what = field === 'dayOfWeek' ? 'a number or a day name (sun, mon, ...)' : 'a number';
      throw new CrontabSyntaxError(field, `"${token}" is not ${what}`);
    }
  }
  if (value < min || value > max) {
    const hint = field === 'dayOfWeek' && value === 7 ? ' (Sunday is 0, as in Celery)' : '';
    throw new CrontabSyntaxError(field, `${value} is out of range ${min}-${max}${hint}`);
  }
  return value;
}

function expandPart(field: CrontabField, part: string): number[] {
  const { min, max } = CRONTAB_FIELDS[field];
  if (part.startsWith('-')) {
    throw new CrontabSyntaxError(field, `"${part}": negative numbers are not allowed`);
  }
  const match = PART.exec(part);
  if (!match) throw new CrontabSyntaxError(field, `"${part}" is not *, a number, a range or a step`);
  const [, star, from, to, step] = match;
  if (step !== undefined && !star && to === undefined) {
    // Vixie cron reads 5/15 as 5-59/15; Celery's parser refuses it, and so do we, saying how to write it.
    throw new CrontabSyntaxError(
      field,
      `"${part}": a step needs * or a range before it, e.g. */${step} or ${from}-${max}/${step}`,
    );
  }
  let values: number[];
  if (star) {
    values = [];
    for (let v = min; v <= max; v++) values.push(v);
  } else {
    const start = readNumber(field, from as string, part);
    const end = to === undefined ? start : readNumber(field, to, part);
    values = [];
    if (end >= start) {
      for (let v = start; v <= end; v++) values.push(v);
    } else {
      for (let v = start; v <= max; v++) values.push(v);
      for (let v = min; v <= end; v++) values.push(v);
    }
  }
  if (step !== undefined) {
    if (!/^\d+$/.test(step) || Number(step) < 1) {
      throw new CrontabSyntaxError(field, `"${part}": the step must be a whole number of at least 1`);
    }
    const n = Number(step);
    values = values.filter((_, index) => index % n === 0);
  }
  return values;
}

/** Expands one Celery crontab field into its sorted set of values, or throws `CrontabSyntaxError`. */
export function parseCrontabField(field: CrontabField, spec: string | number): number[] {
  const text = String(spec);
  const values = new Set<number>();
  for (const raw of text.split(',')) {
    const part = raw.trim();
    if (!part) {
      throw new CrontabSyntaxError(field, text.trim() ? `"${text}" has an empty part` : 'must not be empty');
    }
    for (const v of expandPart(field, part)) values.add(v);
  }
  return [...values].sort((a, b) => a - b);
}

export interface CrontabSpec {
  minute?: string | number;
  hour?: string | number;
  dayOfWeek?: string | number;
  dayOfMonth?: string | number;
  monthOfYear?: string | number;
}

/** Expands every field (missing fields are `*`); throws the first field's `CrontabSyntaxError`. */
export function parseCrontab(spec: CrontabSpec): CrontabSets {
  return {
    minute: parseCrontabField('minute', spec.minute ?? '*'),
    hour: parseCrontabField('hour', spec.hour ?? '*'),
    dayOfWeek: parseCrontabField('dayOfWeek', spec.dayOfWeek ?? '*'),
    dayOfMonth: parseCrontabField('dayOfMonth', spec.dayOfMonth ?? '*'),
    monthOfYear: parseCrontabField('monthOfYear', spec.monthOfYear ?? '*'),
  };
}

/** True when a field allows every value of its range (Celery treats `*` and `0-59` alike). */
export function isFull(field: CrontabField, values: readonly number[]): boolean {
  const { min, max } = CRONTAB_FIELDS[field];
  return values.length === max - min + 1;
}

/** Celery's meaning of a date: month, day of month and day of week must all match. */
export function crontabMatchesDate(sets: CrontabSets, year: number, month: number, day: number): boolean {
  if (!sets.monthOfYear.includes(month) || !sets.dayOfMonth.includes(day)) return false;
  const dow = new Date(Date.UTC(year, month - 1, day)).getUTCDay();
  return sets.dayOfWeek.includes(dow);
}

/**
 * The first date (UTC calendar arithmetic) on or after `from` that the crontab allows, searching one
 * 400-year Gregorian cycle, after which dates repeat with their weekdays; `undefined` if none ever does.
 */
export function firstMatchingDate(
  sets: CrontabSets,
  from: { year: number; month: number; day: number },
): { year: number; month: number; day: number } | undefined {
  const start = Date.UTC(from.year, from.month - 1, from.day);
  const days = 146_097;
  for (let i = 0; i < days; i++) {
    const date = new Date(start + i * 86_400_000);
    const y = date.getUTCFullYear();
    const m = date.getUTCMonth() + 1;
    const d = date.getUTCDate();
    if (crontabMatchesDate(sets, y, m, d)) return { year: y, month: m, day: d };
  }
  return undefined;
}
