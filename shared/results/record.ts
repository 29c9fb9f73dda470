import type { TaskState } from '../task/states.ts';

/**
 * One row of the results table: django-celery-results' `TaskResult`, in camelCase. `args`,
 * `kwargs` and `result` are JSON text, as django-celery-results keeps them, so any JSON value
 * round-trips exactly and an item's size is known before it is written.
 */
export interface TaskResultRecord {
  taskId: string;
  taskName?: string;
  status: TaskState;
  args?: string;
  kwargs?: string;
  result?: string;
  traceback?: string;
  /** The error's class name for FAILURE and RETRY, e.g. `TimeLimitExceeded`. */
  errorType?: string;
  dateCreated?: string;
  dateStarted?: string;
  dateDone?: string;
  retries?: number;
  queue?: string;
  origin?: string;
  periodicTask?: string;
  /** The Lambda request id (or local worker id) that ran it. */
  worker?: string;
  eta?: string;
  /** Names of fields cut down to fit DynamoDB's 400 KB item limit. */
  truncated?: string[];
  /** Epoch seconds: DynamoDB's TTL deletes the row after this. */
  expiresAt?: number;
  /** Epoch milliseconds until which a run holds this task; another delivery waits until then. */
  leaseUntil?: number;
  /** Which run holds the lease: only that run may record the outcome. */
  leaseToken?: string;
}

/** Room left under DynamoDB's 400 KB item limit for attribute names and the small fields. */
const ITEM_BUDGET_BYTES = 350_000;
const TRUNCATION_MARK = '…[truncated by Celerity: over DynamoDB item size]';

/**
 * Cuts the large text fields (result, traceback, args, kwargs) so the item fits, and names what was
 * cut: the state is never lost to an oversized write.
 */
export function fitItem(record: TaskResultRecord): TaskResultRecord {
  const large = ['result', 'traceback', 'args', 'kwargs'] as const;
  let total = 0;
  for (const field of large) total += Buffer.byteLength(record[field] ?? '');
  if (total <= ITEM_BUDGET_BYTES) return record;
  const fitted: TaskResultRecord = { ...record, truncated: [] };
  let over = total - ITEM_BUDGET_BYTES;
  for (const field of large) {
    const value = fitted[field];
    if (over <= 0 || value === undefined) continue;
    const bytes = Buffer.byteLength(value);
    const keep = Math.max(0, bytes - over - Buffer.byteLength(TRUNCATION_MARK));
    fitted[field] =
      Buffer.from(value)
        .subarray(0, keep)
        .toString('utf8')
        .replace(/\uFFFD$/, '') + TRUNCATION_MARK;
    over -= bytes - Buffer.byteLength(fitted[field] ?? '');
    fitted.truncated?.push(field);
  }
  return fitted;
}
