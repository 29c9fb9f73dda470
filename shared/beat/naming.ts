import { createHash } from 'node:crypto';

/** EventBridge Scheduler's limits on a schedule's name (CreateSchedule: 1-64 of `[0-9a-zA-Z-_.]`). */
export const SCHEDULE_NAME_MAX = 64;
export const SCHEDULE_NAME_PATTERN = /^[0-9a-zA-Z_.-]{1,64}$/;

const HASH_LENGTH = 12;
const SLUG_MAX = SCHEDULE_NAME_MAX - HASH_LENGTH - 1;

/**
 * The schedule name of a periodic task: a readable slug of its name and 12 hex digits (48 bits) of
 * the SHA-256 of the exact name. The hash is always there, so two names that slug alike
 * ("Daily report" and "daily-report!") still get different schedules; a clash needs two names
 * with equal slugs and equal 48-bit hashes, about one chance in 10^10 for 10,000 tasks.
 * Deterministic, so the sync and reconcile find a task's schedule without a lookup table.
 */
export function scheduleName(periodicTaskName: string): string {
  const slug =
    periodicTaskName
      .normalize('NFKD')
      .replace(/[\u0300-\u036f]/g, '')
      .replace(/[^0-9a-zA-Z_.-]+/g, '-')
      .replace(/-{2,}/g, '-')
      .replace(/^[-.]+|[-.]+$/g, '')
      .slice(0, SLUG_MAX)
      .replace(/[-.]+$/, '') || 'task';
  const hash = createHash('sha256').update(periodicTaskName, 'utf8').digest('hex').slice(0, HASH_LENGTH);
  return `${slug}-${hash}`;
}
