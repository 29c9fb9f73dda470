import { CelerityError } from '../errors.ts';

/** A task's return value is too large for its results row: recorded as this FAILURE, never cut. */
export class ResultTooLargeError extends CelerityError {
  static override readonly recordedAs = 'ResultTooLarge';
  readonly bytes: number;
  readonly limit: number;

  constructor(bytes: number, limit: number) {
    super(`the result is ${bytes} bytes of JSON; a results row holds at most ${limit}`);
    this.name = 'ResultTooLargeError';
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** A stored result that is not JSON (a row cut by an older version, or edited by hand). */
export class ResultUnreadableError extends CelerityError {
  static override readonly recordedAs = 'ResultUnreadable';

  constructor(reason: string) {
    super(`the stored result cannot be read back: ${reason}`);
    this.name = 'ResultUnreadableError';
  }
}

/**
 * A revoked task's one-time schedules (a far eta) could not be deleted. The REVOKED row is
 * written and outlives the eta, so a send that fires anyway finds it and runs nothing.
 */
export class ScheduleCancelError extends CelerityError {
  readonly taskId: string;
  readonly schedules: readonly string[];

  constructor(taskId: string, schedules: readonly string[], options?: ErrorOptions) {
    const reason = options?.cause instanceof Error ? `: ${options.cause.message}` : '';
    super(
      `task ${taskId} is revoked (its row outlives the eta, so a send that fires finds it), but its one-time schedule ${schedules.join(', ')} could not be deleted${reason}`,
      options,
    );
    this.name = 'ScheduleCancelError';
    this.taskId = taskId;
    this.schedules = schedules;
  }
}
