import { CelerityError } from '../errors.ts';

/** What an operation was asked about does not exist: a task id, a queue, a periodic task. */
export class NotFoundError extends CelerityError {
  static override readonly recordedAs = 'NotFound';
  readonly kind: 'task' | 'queue' | 'periodic task' | 'dead-letter queue';
  readonly id: string;

  constructor(kind: NotFoundError['kind'], id: string, hint?: string, options?: ErrorOptions) {
    super(`no ${kind} ${JSON.stringify(id)}${hint ? ` (${hint})` : ''}`, options);
    this.name = 'NotFoundError';
    this.kind = kind;
    this.id = id;
  }
}

/** An operation ran and did not do what was asked (a revoke of a finished task, a failed send). */
export class OperationFailedError extends CelerityError {
  static override readonly recordedAs = 'OperationFailed';
  readonly details: Record<string, unknown>;

  constructor(message: string, details: Record<string, unknown> = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'OperationFailedError';
    this.details = details;
  }
}

/** @deprecated Renamed `NotFoundError`; this name goes in a later release. */
export const NotFound = NotFoundError;
/** @deprecated Renamed `NotFoundError`. */
export type NotFound = NotFoundError;

/** @deprecated Renamed `OperationFailedError`; this name goes in a later release. */
export const OperationFailed = OperationFailedError;
/** @deprecated Renamed `OperationFailedError`. */
export type OperationFailed = OperationFailedError;
