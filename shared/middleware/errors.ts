import { CelerityError } from '../errors.ts';

/**
 * The reason of the signal `invocationDeadline` aborts: the invocation is about to be stopped.
 * A task body sees it on `ctx.signal.reason` (where the soft limit shows `SoftTimeLimitExceeded`).
 */
export class InvocationDeadlineError extends CelerityError {
  /** What was left of the invocation when the signal was aborted. */
  readonly remainingMs: number;

  constructor(remainingMs: number, options?: ErrorOptions) {
    super(`the invocation ends in ${remainingMs} ms: work not finished by now is given back`, options);
    this.name = 'InvocationDeadlineError';
    this.remainingMs = remainingMs;
  }
}
