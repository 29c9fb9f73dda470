import { ValidationError } from '../errors.ts';
import type { IntervalSchedule, Period } from './definition.ts';
import { ScheduleExpressionError } from './errors.ts';

/** SQS's longest per-message delay: the furthest an expansion may place a message after its trigger. */
export const MAX_DELAY_SECONDS = 900;

const SECONDS: Record<Exclude<Period, 'microseconds'>, number> = {
  days: 86_400,
  hours: 3_600,
  minutes: 60,
  seconds: 1,
};

/**
 * Messages one trigger fans out into: at `0, everySeconds, 2·everySeconds, …` (`count` of them)
 * after the trigger's scheduled time.
 */
export interface Expansion {
  readonly everySeconds: number;
  readonly count: number;
}

export interface RatePlan {
  readonly expression: string;
  /** Seconds between triggers of the `rate()`. */
  readonly periodSeconds: number;
  /** Seconds between runs, as Celery means the interval. */
  readonly everySeconds: number;
  readonly expansion?: Expansion;
}

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

function rate(seconds: number): string {
  for (const [unit, size] of [
    ['day', 86_400],
    ['hour', 3_600],
    ['minute', 60],
  ] as const) {
    if (seconds % size === 0) {
      const n = seconds / size;
      return `rate(${n} ${n === 1 ? unit : `${unit}s`})`;
    }
  }
  throw new ScheduleExpressionError(`rate(${seconds} seconds)`, 'EventBridge rates are whole minutes');
}

/** The interval in whole seconds, or a refusal naming `interval.every`. */
export function intervalSeconds(interval: IntervalSchedule): number {
  if (interval.period === 'microseconds') {
    if (interval.every % 1_000_000 !== 0) {
      throw ValidationError.of(
        'interval.every',
        `${interval.every} microseconds is not a whole number of seconds; EventBridge Scheduler and SQS delays count whole seconds`,
      );
    }
    return interval.every / 1_000_000;
  }
  return interval.every * SECONDS[interval.period];
}

/**
 * An interval as a `rate()`, exactly:
 * - whole minutes (hours, days) → `rate(N minutes|hours|days)`, one run per trigger;
 * - any other whole number of seconds N → a trigger every lcm(N, 60) seconds, which is whole minutes,
 *   expanded by the worker into lcm/N messages N seconds apart (SQS `DelaySeconds`). 20 s gives
 *   `rate(1 minute)` × 3; 90 s gives `rate(3 minutes)` × 2 (at 0 and 90 s); 45 s gives
 *   `rate(3 minutes)` × 4. Runs are then exactly N seconds apart for ever.
 * - refused when that needs a delay above SQS's 900 s (e.g. 61 s: lcm 3,660 s) or is not whole
 *   seconds (microseconds).
 */
export function ratePlan(interval: IntervalSchedule): RatePlan {
  const every = intervalSeconds(interval);
  if (every % 60 === 0) return { expression: rate(every), periodSeconds: every, everySeconds: every };
  const period = (every * 60) / gcd(every, 60);
  const lastDelay = period - every;
  if (lastDelay > MAX_DELAY_SECONDS) {
    throw ValidationError.of(
      'interval.every',
      `every ${every} s cannot run exactly: EventBridge Scheduler fires on whole minutes, and a ${every}-second rhythm lines up with the minute only every ${period} s, which needs message delays up to ${lastDelay} s (SQS allows ${MAX_DELAY_SECONDS} s); use a number of seconds that divides 60, a whole number of minutes, or a crontab`,
    );
  }
  return {
    expression: rate(period),
    periodSeconds: period,
    everySeconds: every,
    expansion: { everySeconds: every, count: period / every },
  };
}

/** Seconds after a trigger's scheduled time at which the worker sends each message of an expansion. */
export function expansionOffsets(expansion: Expansion): number[] {
  return Array.from({ length: expansion.count }, (_, i) => i * expansion.everySeconds);
}
