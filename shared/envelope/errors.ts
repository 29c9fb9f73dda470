import { CelerityError } from '../errors.ts';

/** The message body is not something the worker can act on: not JSON, or not an envelope. */
export class EnvelopeError extends CelerityError {
  /** The task id, when the body held one that could be read: the failure is recorded under it. */
  readonly taskId: string | undefined;
  readonly taskName: string | undefined;

  constructor(message: string, details: { taskId?: string; taskName?: string } = {}, options?: ErrorOptions) {
    super(message, options);
    this.name = 'EnvelopeError';
    this.taskId = details.taskId;
    this.taskName = details.taskName;
  }
}

/** Refused at enqueue: SQS would not take a message this large. */
export class MessageTooLargeError extends CelerityError {
  static override readonly recordedAs = 'MessageTooLarge';
  readonly bytes: number;
  readonly limit: number;

  constructor(taskName: string, bytes: number, limit: number) {
    super(
      `message for ${taskName} is ${bytes} bytes, over the queue's limit of ${limit}: pass ids, not large objects`,
    );
    this.name = 'MessageTooLargeError';
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** @deprecated Renamed `MessageTooLargeError`; this name goes in a later release. */
export const MessageTooLarge = MessageTooLargeError;
/** @deprecated Renamed `MessageTooLargeError`. */
export type MessageTooLarge = MessageTooLargeError;
