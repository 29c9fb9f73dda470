import { TaskState } from '../task/states.ts';
import { ResultTooLargeError, ResultUnreadableError } from './errors.ts';

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
  /**
   * Set on a FAILURE the worker recorded for a message whose body never ran (unknown task or route,
   * undecodable, refused at admission): a later delivery of the same id may still claim the task.
   */
  poison?: boolean;
  /**
   * SHA-256 of what the run was asked to do (task, args, kwargs; `shared/envelope/digest.ts`):
   * tells a redelivery of this task from a different message that reuses its id.
   */
  envelopeDigest?: string;
  /** Set when a message for a different task (or other args) came with this id and was not run. */
  idReused?: string;
  /** A FAILURE re-sent by a retry or bulk replay: the new task's id (a row is re-sent once). */
  replayedAs?: string;
  /** The task that sent this one (a chain's previous part, a linked task's parent). */
  parentId?: string;
  /** The ids this task sent when it finished: a chain's next part, its links (Celery's `children`). */
  children?: string[];
  /** Epoch seconds: DynamoDB's TTL deletes the row after this. */
  expiresAt?: number;
  /** Epoch milliseconds until which a run holds this task; another delivery waits until then. */
  leaseUntil?: number;
  /** Which run holds the lease: only that run may record the outcome. */
  leaseToken?: string;
}

/** Room left under DynamoDB's 400 KB item limit for attribute names and the small fields. */
const ITEM_BUDGET_BYTES = 350_000;
/**
 * The largest result a row keeps, in UTF-8 bytes of its JSON: a larger one is recorded as a
 * `ResultTooLarge` FAILURE, never cut (a cut result is no longer the value the task returned).
 */
export const MAX_RESULT_BYTES = 256 * 1024;
const TRUNCATION_MARK = '…[truncated by Celerity: over DynamoDB item size]';
/** The text fields that may be cut to fit, least precious first. `result` is never among them. */
const CUTTABLE = ['traceback', 'kwargs', 'args'] as const;

/**
 * Cuts the large text fields (traceback, kwargs, args) so the item fits, and names what was cut:
 * the state is never lost to an oversized write. A result over `MAX_RESULT_BYTES` (which the
 * worker refuses before it gets here) turns the row into that failure rather than being cut.
 */
export function fitItem(record: TaskResultRecord): TaskResultRecord {
  const resultBytes = Buffer.byteLength(record.result ?? '');
  if (resultBytes > MAX_RESULT_BYTES) {
    const error = new ResultTooLargeError(resultBytes, MAX_RESULT_BYTES);
    const { result: _dropped, ...rest } = record;
    return fitItem({
      ...rest,
      status: TaskState.FAILURE,
      errorType: error.exceptionType,
      traceback: `${error.exceptionType}: ${error.message}`,
    });
  }
  let total = resultBytes;
  for (const field of CUTTABLE) total += Buffer.byteLength(record[field] ?? '');
  if (total <= ITEM_BUDGET_BYTES) return record;
  const fitted: TaskResultRecord = { ...record, truncated: [] };
  let over = total - ITEM_BUDGET_BYTES;
  for (const field of CUTTABLE) {
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

/**
 * A row as readers may trust it: a result that is not JSON (cut by a version before results were
 * never cut, or edited by hand) is shown as the failure it is, never handed out as a value.
 */
export function readableRecord(record: TaskResultRecord): TaskResultRecord {
  if (record.result === undefined) return record;
  let problem: string | undefined = record.truncated?.includes('result')
    ? 'it was cut to fit the row'
    : undefined;
  if (!problem) {
    try {
      JSON.parse(record.result);
      return record;
    } catch (error) {
      problem = `it is not JSON (${(error as Error).message})`;
    }
  }
  const { result: _unreadable, ...rest } = record;
  const error = new ResultUnreadableError(problem);
  return {
    ...rest,
    status: TaskState.FAILURE,
    errorType: error.exceptionType,
    traceback: `${error.exceptionType}: ${error.message}`,
  };
}
