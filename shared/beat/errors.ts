import { CelerityError } from '../errors.ts';

/** `add` of a name that is taken: periodic task names are unique, as in django-celery-beat. */
export class PeriodicTaskExists extends CelerityError {
  constructor(readonly periodicTask: string) {
    super(`a periodic task named "${periodicTask}" already exists; update it or choose another name`);
    this.name = 'PeriodicTaskExists';
  }
}

export class PeriodicTaskNotFound extends CelerityError {
  constructor(readonly periodicTask: string) {
    super(`no periodic task named "${periodicTask}"`);
    this.name = 'PeriodicTaskNotFound';
  }
}

/** Someone else changed the definition between our read and our write, again and again. */
export class PeriodicTaskConflict extends CelerityError {
  constructor(readonly periodicTask: string) {
    super(`periodic task "${periodicTask}" kept changing while it was being updated; try again`);
    this.name = 'PeriodicTaskConflict';
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
