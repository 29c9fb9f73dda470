import { CelerityError } from '../errors.ts';

/** One message of a batch that was not sent, and why. */
export interface EnqueueFailure {
  /** Its place in the list given to `sendMany` or `sendEnvelopes`. */
  index: number;
  taskId: string;
  reason: string;
  /**
   * True when the message itself is at fault (invalid, too large, an unknown queue, a schedule
   * clash): sending it again cannot help. False when sending failed (after retries) and may work later.
   */
  permanent: boolean;
  /** The failure's error name (`MessageTooLarge`, `ValidationError`, `ScheduleConflict`, an SQS code). */
  errorType: string;
}

/** Some messages of a batch could not be sent; `failed` says which, `sent` what did go. */
export class EnqueueError extends CelerityError {
  readonly failed: readonly EnqueueFailure[];
  readonly sent: readonly SentTask[];

  constructor(failed: EnqueueError['failed'], sent: readonly SentTask[], options?: ErrorOptions) {
    super(
      `${failed.length} of ${failed.length + sent.length} task messages were not sent: ${failed
        .slice(0, 3)
        .map((f) => `${f.taskId} (${f.reason})`)
        .join(', ')}${failed.length > 3 ? ', ...' : ''}`,
      options,
    );
    this.name = 'EnqueueError';
    this.failed = failed;
    this.sent = sent;
  }
}

/**
 * A delayed task's one-time schedule already exists for a different task, queue or arguments under
 * the same task id and attempt: the id was reused. Nothing was scheduled for this call.
 */
export class ScheduleConflictError extends CelerityError {
  static override readonly recordedAs = 'ScheduleConflict';
  readonly taskId: string;
  readonly scheduleName: string;

  constructor(taskId: string, scheduleName: string, options?: ErrorOptions) {
    super(
      `task id ${JSON.stringify(taskId)} is already scheduled (${scheduleName}) with a different body or queue; use a new task id`,
      options,
    );
    this.name = 'ScheduleConflictError';
    this.taskId = taskId;
    this.scheduleName = scheduleName;
  }
}

/** `AsyncResult.get()` waited its whole timeout (Celery's `TimeoutError`). */
export class ResultTimeoutError extends CelerityError {
  static override readonly recordedAs = 'ResultTimeout';

  constructor(taskId: string, seconds: number, lastStatus: string) {
    super(`task ${taskId} did not finish within ${seconds} s (last status ${lastStatus})`);
    this.name = 'ResultTimeoutError';
  }
}

/** `AsyncResult.get()` of a task that ended in FAILURE or REVOKED: the task's error, re-raised. */
export class TaskFailedError extends CelerityError {
  static override readonly recordedAs = 'TaskFailed';
  readonly taskId: string;
  readonly status: string;
  readonly errorType: string | undefined;
  readonly traceback: string | undefined;

  constructor(taskId: string, status: string, errorType: string | undefined, traceback: string | undefined) {
    super(`task ${taskId} ended ${status}${errorType ? ` with ${errorType}` : ''}: ${firstLine(traceback)}`);
    this.name = 'TaskFailedError';
    this.taskId = taskId;
    this.status = status;
    this.errorType = errorType;
    this.traceback = traceback;
  }
}

function firstLine(text: string | undefined): string {
  return text?.split('\n', 1)[0] ?? 'no traceback';
}

/** Where one call went. */
export interface SentTask {
  readonly taskId: string;
  readonly task: string;
  readonly queue: string;
  /** `sqs` for a message (delayed up to 15 minutes), `scheduler` for a one-time schedule. */
  readonly via: 'sqs' | 'scheduler';
  readonly eta: string | undefined;
}

/** @deprecated Renamed `ScheduleConflictError`; this name goes in a later release. */
export const ScheduleConflict = ScheduleConflictError;
/** @deprecated Renamed `ScheduleConflictError`. */
export type ScheduleConflict = ScheduleConflictError;

/** @deprecated Renamed `ResultTimeoutError`; this name goes in a later release. */
export const ResultTimeout = ResultTimeoutError;
/** @deprecated Renamed `ResultTimeoutError`. */
export type ResultTimeout = ResultTimeoutError;

/** @deprecated Renamed `TaskFailedError`; this name goes in a later release. */
export const TaskFailed = TaskFailedError;
/** @deprecated Renamed `TaskFailedError`. */
export type TaskFailed = TaskFailedError;
