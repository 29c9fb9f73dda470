import { CelerityError } from '../errors.ts';

/** What an operation was asked about does not exist: a task id, a queue, a periodic task. */
export class NotFound extends CelerityError {
  readonly kind: 'task' | 'queue' | 'periodic task' | 'dead-letter queue';
  readonly id: string;

  constructor(kind: NotFound['kind'], id: string, hint?: string, options?: ErrorOptions) {
    super(`no ${kind} ${JSON.stringify(id)}${hint ? ` (${hint})` : ''}`, options);
    this.name = 'NotFound';
    this.kind = kind;
    this.id = id;
  }
}

/** An operation ran and did not do what was asked (a revoke of a finished task, a failed send). */
export class OperationFailed extends CelerityError {
  readonly details: Record<string, unknown>;

  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OperationFailed';
    this.details = details;
  }
}
