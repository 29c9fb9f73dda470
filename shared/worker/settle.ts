import type { Logger } from '../log.ts';
import { ResultTooLargeError } from '../results/errors.ts';
import { MAX_RESULT_BYTES } from '../results/record.ts';
import { TaskState } from '../task/states.ts';
import { InvalidRetryDelayError, ResultNotSerializableError } from './errors.ts';
import { describeError, type RunOutcome } from './execute.ts';
import type { PendingCompletion } from './ledger.ts';
import { outcomeRow, type Resend, type Work } from './work.ts';

/**
 * The longest retry delay accepted: one year. Celery computes an eta from any countdown and fails
 * on absurd ones; here a delay that is not a finite number of seconds from 0 to this bound ends
 * the task as a FAILURE (`InvalidRetryDelay`) rather than being clamped to something not asked
 * for. Delays over SQS's 900 s go through a one-time schedule.
 */
export const MAX_RETRY_DELAY_SECONDS = 365 * 86_400;

/** What a finished run leaves: a row to record now, or a message to send first (a retry). */
export type Settled = { completion: PendingCompletion } | { resend: Resend };

/** Turns a run's outcome into its row or its retry. Never throws for a task's doing. */
export function settle(w: Work, outcome: RunOutcome, expiresAfter: number, log: Logger): Settled {
  const { envelope, task, record } = w;
  const now = Date.now();
  const base = { expiresAt: Math.floor(now / 1000) + expiresAfter };
  const fields = { taskId: envelope.id, task: task.name, runtimeMs: Math.round(outcome.runtimeMs) };
  const failed = (error: unknown): Settled => {
    const { errorType, traceback } = describeError(error);
    log.error('task failed', { ...fields, state: TaskState.FAILURE, error: errorType });
    return {
      completion: {
        messageId: record.messageId,
        completion: outcomeRow(w, {
          ...base,
          status: TaskState.FAILURE,
          errorType,
          traceback,
          dateDone: new Date(now).toISOString(),
        }),
      },
    };
  };

  if (outcome.kind === 'success') {
    let result: string | undefined;
    try {
      result = task.options.ignoreResult
        ? undefined
        : JSON.stringify(outcome.result ?? null, refuseNonFinite);
    } catch (error) {
      if (error instanceof ResultNotSerializableError) return failed(error);
      return failed(
        new TypeError(`result is not JSON-serializable: ${describeError(error).traceback.split('\n')[0]}`),
      );
    }
    // JSON.stringify gives undefined for a lone function or symbol: that is no result to store either.
    if (!task.options.ignoreResult && typeof result !== 'string')
      return failed(new TypeError('result is not JSON-serializable'));
    const bytes = Buffer.byteLength(result ?? '');
    if (bytes > MAX_RESULT_BYTES) return failed(new ResultTooLargeError(bytes, MAX_RESULT_BYTES));
    log.info('task succeeded', { ...fields, state: TaskState.SUCCESS });
    return {
      completion: {
        messageId: record.messageId,
        completion: outcomeRow(w, {
          ...base,
          status: TaskState.SUCCESS,
          result,
          dateDone: new Date(now).toISOString(),
        }),
      },
    };
  }
  if (outcome.kind === 'failure') return failed(outcome.error);

  const countdown = outcome.countdown;
  if (
    typeof countdown !== 'number' ||
    !Number.isFinite(countdown) ||
    countdown < 0 ||
    countdown > MAX_RETRY_DELAY_SECONDS
  )
    return failed(new InvalidRetryDelayError(countdown, MAX_RETRY_DELAY_SECONDS, { cause: outcome.error }));
  const { errorType, traceback } = describeError(outcome.error);
  const eta = new Date(now + countdown * 1000).toISOString();
  log.warn('task will retry', { ...fields, state: TaskState.RETRY, error: errorType, countdown });
  return {
    resend: {
      kind: 'retry',
      messageId: record.messageId,
      envelope: { ...envelope, retries: envelope.retries + 1, eta },
      delaySeconds: Math.ceil(countdown),
      // The row counts the attempt to come, so a late copy of this one is known as stale.
      completion: outcomeRow(w, {
        ...base,
        status: TaskState.RETRY,
        retries: envelope.retries + 1,
        errorType,
        traceback,
        eta,
      }),
    },
  };
}

/**
 * JSON.stringify writes NaN and ±Infinity as `null`, which would store a SUCCESS whose value is
 * not what the task returned; Celery's json serializer refuses them, and so does this.
 */
function refuseNonFinite(this: unknown, key: string, value: unknown): unknown {
  if (typeof value === 'number' && !Number.isFinite(value))
    throw new ResultNotSerializableError(key === '' ? 'the result' : `key ${JSON.stringify(key)}`, value);
  return value;
}

/** A run put off (rate limit, window passed, no time left in the invocation): sent again, its row back to waiting. */
export function deferral(w: Work, delaySeconds: number): Resend {
  return {
    kind: 'deferral',
    messageId: w.record.messageId,
    envelope: w.envelope,
    delaySeconds,
    completion: outcomeRow(w, {
      status: w.envelope.retries > 0 ? TaskState.RETRY : TaskState.PENDING,
      dateStarted: undefined,
      worker: undefined,
    }),
  };
}
