import { CelerityError } from '../errors.ts';

/**
 * Thrown by `ctx.retry()`: the run ends and the task is sent again after `countdown` seconds.
 * Like Celery's `Retry`, it is an instruction, not a failure.
 */
export class Retry extends CelerityError {
  readonly countdown: number | undefined;
  readonly eta: Date | undefined;
  readonly exc: unknown;
  readonly maxRetries: number | undefined;

  constructor(options: { countdown?: number; eta?: Date; exc?: unknown; maxRetries?: number } = {}) {
    super(
      options.exc instanceof Error ? `Retry requested: ${options.exc.message}` : 'Retry requested',
      options.exc === undefined ? undefined : { cause: options.exc },
    );
    this.name = 'Retry';
    this.countdown = options.countdown;
    this.eta = options.eta;
    this.exc = options.exc;
    this.maxRetries = options.maxRetries;
  }
}

/** Fails the task at once: never retried, even when its class is listed in `autoretryFor`. */
export class Reject extends CelerityError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'Reject';
  }
}

/** The reason of `ctx.signal` when the soft time limit passes; `ctx.signal.throwIfAborted()` throws it. */
export class SoftTimeLimitExceeded extends CelerityError {
  constructor(seconds: number) {
    super(`soft time limit (${seconds} s) exceeded`);
    this.name = 'SoftTimeLimitExceeded';
  }
}

/** Recorded when a run outlives its hard time limit (or the invocation's remaining time). */
export class TimeLimitExceeded extends CelerityError {
  constructor(seconds: number) {
    super(`hard time limit (${seconds} s) exceeded`);
    this.name = 'TimeLimitExceeded';
  }
}

/** Recorded when a task asks for a retry after its last allowed one. */
export class MaxRetriesExceeded extends CelerityError {
  constructor(taskName: string, maxRetries: number, options?: ErrorOptions) {
    super(`Can't retry ${taskName}: max retries (${maxRetries}) exceeded`, options);
    this.name = 'MaxRetriesExceeded';
  }
}

/** A message names a task this process does not have in its registry. */
export class NotRegistered extends CelerityError {
  readonly taskName: string;
  constructor(taskName: string) {
    super(`task ${JSON.stringify(taskName)} is not registered`);
    this.name = 'NotRegistered';
    this.taskName = taskName;
  }
}

/**
 * A call passed keyword arguments its task does not take: Celery's `TypeError: ... got an
 * unexpected keyword argument 'x'`, recorded under that name so Celery users recognise it.
 */
export class UnexpectedKeywordArgumentError extends CelerityError {
  static override readonly recordedAs = 'TypeError';
  readonly keywords: readonly string[];

  constructor(task: string, keywords: readonly string[]) {
    super(
      `${task}() got an unexpected keyword argument ${keywords.map((k) => JSON.stringify(k)).join(', ')}`,
    );
    this.name = 'UnexpectedKeywordArgumentError';
    this.keywords = keywords;
  }
}

/** @deprecated Renamed `UnexpectedKeywordArgumentError`; this name goes in a later release. */
export const UnexpectedKeywordArgument = UnexpectedKeywordArgumentError;
/** @deprecated Renamed `UnexpectedKeywordArgumentError`. */
export type UnexpectedKeywordArgument = UnexpectedKeywordArgumentError;
