import { CelerityError } from '../errors.ts';
import type { CrontabField } from './crontab.ts';

/** `add` of a name that is taken: periodic task names are unique, as in django-celery-beat. */
export class PeriodicTaskExistsError extends CelerityError {
  static override readonly recordedAs = 'PeriodicTaskExists';

  constructor(readonly periodicTask: string) {
    super(`a periodic task named "${periodicTask}" already exists; update it or choose another name`);
    this.name = 'PeriodicTaskExistsError';
  }
}

export class PeriodicTaskNotFoundError extends CelerityError {
  static override readonly recordedAs = 'PeriodicTaskNotFound';

  constructor(readonly periodicTask: string) {
    super(`no periodic task named "${periodicTask}"`);
    this.name = 'PeriodicTaskNotFoundError';
  }
}

/** Someone else changed the definition between our read and our write, again and again. */
export class PeriodicTaskConflictError extends CelerityError {
  static override readonly recordedAs = 'PeriodicTaskConflict';

  constructor(readonly periodicTask: string) {
    super(`periodic task "${periodicTask}" kept changing while it was being updated; try again`);
    this.name = 'PeriodicTaskConflictError';
  }
}

/**
 * A `cron()`, `rate()` or `at()` expression EventBridge Scheduler would refuse (or one that cannot
 * be counted from, such as a `rate()` with neither a StartDate nor a creation time). `field` names
 * the cron field at fault (`minutes`, `day-of-week`, ...) when there is one.
 */
export class ScheduleExpressionError extends CelerityError {
  readonly expression: string;
  readonly field: string | undefined;

  constructor(expression: string, message: string, field?: string) {
    super(field ? `${expression}: ${field}: ${message}` : `${expression}: ${message}`);
    this.name = 'ScheduleExpressionError';
    this.expression = expression;
    this.field = field;
  }
}

/** A crontab field that Celery would not accept (or would misread); `message` says why. */
export class CrontabSyntaxError extends CelerityError {
  readonly field: CrontabField;
  constructor(field: CrontabField, message: string) {
    super(message);
    this.name = 'CrontabSyntaxError';
    this.field = field;
  }
}

/** @deprecated Renamed `PeriodicTaskExistsError`; this name goes in a later release. */
export const PeriodicTaskExists = PeriodicTaskExistsError;
/** @deprecated Renamed `PeriodicTaskExistsError`. */
export type PeriodicTaskExists = PeriodicTaskExistsError;

/** @deprecated Renamed `PeriodicTaskNotFoundError`; this name goes in a later release. */
export const PeriodicTaskNotFound = PeriodicTaskNotFoundError;
/** @deprecated Renamed `PeriodicTaskNotFoundError`. */
export type PeriodicTaskNotFound = PeriodicTaskNotFoundError;

/** @deprecated Renamed `PeriodicTaskConflictError`; this name goes in a later release. */
export const PeriodicTaskConflict = PeriodicTaskConflictError;
/** @deprecated Renamed `PeriodicTaskConflictError`. */
export type PeriodicTaskConflict = PeriodicTaskConflictError;
