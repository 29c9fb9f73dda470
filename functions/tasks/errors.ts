import { CelerityError } from '../../shared/errors.ts';

/**
 * LabControl's task errors. Each is recorded (and listed in `autoretryFor`) under the name it had
 * before the `…Error` convention, as the Celery app it ports named its exceptions.
 */

/** Some reminders could not be sent this run; their claims were released, so a retry sends them. */
export class ReminderDeliveryIncompleteError extends CelerityError {
  static override readonly recordedAs = 'ReminderDeliveryIncomplete';

  constructor(sent: number, failed: string[], cause: unknown) {
    super(`sent ${sent} reminders; ${failed.length} failed and will be retried: ${failed.join(', ')}`, {
      cause,
    });
    this.name = 'ReminderDeliveryIncompleteError';
  }
}

/** Some items were still unprocessed after every attempt: DynamoDB kept throttling the table. */
export class BatchWriteIncompleteError extends CelerityError {
  static override readonly recordedAs = 'BatchWriteIncomplete';
  readonly unprocessed: number;
  constructor(table: string, unprocessed: number, written: number) {
    super(`${unprocessed} writes to ${table} still unprocessed after retries (${written} written)`);
    this.name = 'BatchWriteIncompleteError';
    this.unprocessed = unprocessed;
  }
}

/** The run stopped at its soft limit with chunks left; it retries at once and carries on. */
export class StudyContinuesError extends CelerityError {
  static override readonly recordedAs = 'StudyContinues';

  constructor(studyId: string, done: number, total: number) {
    super(`study ${studyId}: ${done}/${total} chunks processed; continuing in a new invocation`);
    this.name = 'StudyContinuesError';
  }
}
