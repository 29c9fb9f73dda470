import { Retry } from './errors.ts';

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
}

export function createTaskContext<K extends Record<string, unknown>>(
  request: TaskRequest,
  kwargs: K,
  signal: AbortSignal,
): TaskContext<K> {
  return {
    request,
    kwargs,
    signal,
    retry(options: RetryOptions = {}): never {
      throw new Retry(options);
    },
  };
}
