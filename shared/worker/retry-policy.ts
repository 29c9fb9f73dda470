import { exceptionTypeOf } from '../errors.ts';
import type { ErrorMatcher, ResolvedTaskOptions } from '../task/options.ts';

export function matchesAny(error: unknown, matchers: readonly ErrorMatcher[]): boolean {
  if (!(error instanceof Error)) return false;
  return matchers.some((matcher) =>
    typeof matcher === 'string'
      ? error.name === matcher || exceptionTypeOf(error) === matcher || error.constructor.name === matcher
      : error instanceof matcher,
  );
}

/**
 * Seconds before attempt `retries + 1`, as Celery computes it: with `retryBackoff`, factor × 2^retries
 * capped at `retryBackoffMax`, and with `retryJitter` a uniform draw below that (full jitter);
 * otherwise the task's `defaultRetryDelay`.
 */
export function retryCountdown(
  options: Pick<
    ResolvedTaskOptions,
    'retryBackoff' | 'retryBackoffMax' | 'retryJitter' | 'defaultRetryDelay'
  >,
  retries: number,
  random: () => number = Math.random,
): number {
  if (options.retryBackoff <= 0) return options.defaultRetryDelay;
  const ceiling = Math.min(options.retryBackoffMax, options.retryBackoff * 2 ** retries);
  return options.retryJitter ? Math.floor(random() * (ceiling + 1)) : ceiling;
}
