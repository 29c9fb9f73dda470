import { ValidationError } from '../errors.ts';
import { Retry } from './errors.ts';
import { CUSTOM_STATE_PATTERN, NOT_SETTABLE_STATES, type TaskState } from './states.ts';

/** What a running task knows about its own delivery (Celery's `self.request`). */
export interface TaskRequest {
  readonly id: string;
  readonly task: string;
  /** How many times this task has been retried before this run. */
  readonly retries: number;
  readonly eta: string | undefined;
  readonly expires: string | undefined;
  readonly origin: string | undefined;
  readonly parentId: string | undefined;
  readonly rootId: string | undefined;
  /** The periodic task that sent this run, when Beat did. */
  readonly periodicTask: string | undefined;
  readonly queue: string | undefined;
  /** `ApproximateReceiveCount` of the SQS message; 1 for eager runs. */
  readonly deliveryCount: number;
  readonly isEager: boolean;
}

export interface RetryOptions {
  /** Seconds until the next attempt; defaults to the task's `defaultRetryDelay` (or its backoff). */
  countdown?: number;
  eta?: Date;
  /** The error that made the task retry; it is recorded, and re-thrown as the cause once retries run out. */
  exc?: unknown;
  /** Overrides the task's `maxRetries` for this call. */
  maxRetries?: number;
}

/** What `ctx.updateState` takes (Celery's `update_state(state=..., meta=...)`). */
export interface StateUpdate {
  /** A custom state such as `PROGRESS`, or `STARTED`; never a ready state, RETRY or PENDING. */
  state: TaskState;
  /** Any JSON value; readers get it as the task's `info` (and `result`) while the state holds. */
  meta?: unknown;
}

/**
 * The largest `meta` in UTF-8 bytes of its JSON: a progress write is paid per KB (one write unit
 * each), so meta stays small; a larger one is refused, naming the field.
 */
export const MAX_STATE_META_BYTES = 64 * 1024;

/**
 * Records a checked update where readers see it; resolves false when this run no longer holds
 * the task (it finished, was revoked, or another run took it over), so nothing was written.
 */
export type StateWriter = (state: TaskState, metaJson: string) => Promise<boolean>;

/** Checks an update and gives it as the writer takes it: the state, and the meta as JSON text. */
export function checkedStateUpdate(update: StateUpdate): { state: TaskState; metaJson: string } {
  const state = (update as Partial<StateUpdate> | undefined)?.state;
  if (typeof state !== 'string' || !CUSTOM_STATE_PATTERN.test(state))
    throw ValidationError.of(
      'state',
      `must be a state name (a letter, then letters, digits or _ . : -, at most 64), such as PROGRESS; got ${JSON.stringify(state)}`,
    );
  if (NOT_SETTABLE_STATES.has(state))
    throw ValidationError.of(
      'state',
      `${state} is set by the worker, not by updateState: a task ends by returning or throwing`,
    );
  let metaJson: string | undefined;
  try {
    metaJson = JSON.stringify(update.meta ?? null);
  } catch (cause) {
    throw new ValidationError([{ field: 'meta', message: `is not JSON: ${(cause as Error).message}` }], {
      cause,
    });
  }
  if (metaJson === undefined)
    throw ValidationError.of('meta', 'is not a JSON value (a function or a symbol)');
  const bytes = Buffer.byteLength(metaJson);
  if (bytes > MAX_STATE_META_BYTES)
    throw ValidationError.of('meta', `is ${bytes} bytes of JSON; at most ${MAX_STATE_META_BYTES}`);
  return { state, metaJson };
}

export interface TaskContext<K extends Record<string, unknown> = Record<string, unknown>> {
  readonly request: TaskRequest;
  readonly kwargs: K;
  /**
   * Aborts when the soft time limit passes (its reason a `SoftTimeLimitExceeded`), or when the
   * invocation running the task is about to end (an `InvocationDeadlineError`: the run comes back).
   */
  readonly signal: AbortSignal;
  /** Ends this run and schedules the next attempt (Celery's `self.retry`). Always throws. */
  retry(options?: RetryOptions): never;
  /**
   * Shows a state while the task runs (Celery's `self.update_state`): `AsyncResult.state` reads
   * it, `info` its meta, until the run ends with its outcome. Written only while this run holds
   * the task: false when it no longer does (nothing was written). A bad state or meta throws a
   * `ValidationError` naming it; a store that cannot be reached throws, as Celery's backend would.
   */
  updateState(update: StateUpdate): Promise<boolean>;
}

/** Eager runs and runs with nowhere to write: updates are checked, then kept by no one. */
const keepNowhere: StateWriter = async () => true;

export function createTaskContext<K extends Record<string, unknown>>(
  request: TaskRequest,
  kwargs: K,
  signal: AbortSignal,
  writeState: StateWriter = keepNowhere,
): TaskContext<K> {
  return {
    request,
    kwargs,
    signal,
    retry(options: RetryOptions = {}): never {
      throw new Retry(options);
    },
    async updateState(update: StateUpdate): Promise<boolean> {
      const { state, metaJson } = checkedStateUpdate(update);
      return writeState(state, metaJson);
    },
  };
}
