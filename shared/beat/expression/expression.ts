import { ScheduleExpressionError } from '../errors.ts';
import { type CronSpec, parseCronExpression } from './cron.ts';

/** A `ScheduleExpression` as EventBridge Scheduler reads it. */
export type ScheduleExpression =
  | { kind: 'cron'; cron: CronSpec }
  | { kind: 'rate'; periodMs: number }
  | { kind: 'at'; year: number; month: number; day: number; hour: number; minute: number; second: number };

const MINUTE = 60_000;
const UNITS: Record<string, number> = { minute: MINUTE, hour: 60 * MINUTE, day: 24 * 60 * MINUTE };

function parseAt(text: string, at: RegExpExecArray): ScheduleExpression {
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
    throw new ScheduleExpressionError(text, 'is not a valid date and time');
  }
  return { kind: 'at', year, month, day, hour, minute, second };
}

/**
 * Reads `cron(...)`, `rate(N minute|minutes|hour|hours|day|days)` or `at(yyyy-mm-ddThh:mm:ss)`;
 * throws `ScheduleExpressionError` saying what AWS would refuse in it.
 */
export function parseScheduleExpression(expression: string): ScheduleExpression {
  const text = expression.trim();
  if (text.startsWith('cron(')) return { kind: 'cron', cron: parseCronExpression(text) };
  const rate = /^rate\((\d+)\s+(minute|hour|day)s?\)$/.exec(text);
  if (rate) {
    const n = Number(rate[1]);
    if (n < 1) throw new ScheduleExpressionError(text, 'the rate must be at least 1');
    return { kind: 'rate', periodMs: n * (UNITS[rate[2] as string] as number) };
  }
  const at = /^at\((\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})\)$/.exec(text);
  if (at) return parseAt(text, at);
  throw new ScheduleExpressionError(expression, 'is not a cron(), rate() or at() expression');
}
