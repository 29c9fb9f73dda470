import { CelerityError } from '../errors.ts';

/** An envelope names a route queue this deployment does not have (a deploy may add it: redrivable). */
export class UnknownQueueError extends CelerityError {
  static override readonly recordedAs = 'UnknownQueue';
  readonly queue: string;

  constructor(queue: string, known: readonly string[]) {
    super(
      `envelope.queue: no route queue named ${JSON.stringify(queue)} (known: ${known.join(', ') || 'none'})`,
    );
    this.name = 'UnknownQueueError';
    this.queue = queue;
  }
}

/** `ctx.retry()` asked for a delay that is not a finite number of seconds between 0 and the bound. */
export class InvalidRetryDelayError extends CelerityError {
  static override readonly recordedAs = 'InvalidRetryDelay';
  readonly countdown: unknown;

  constructor(countdown: unknown, maxSeconds: number, options?: ErrorOptions) {
    super(
      `retry countdown ${String(countdown)} is not a finite number of seconds from 0 to ${maxSeconds}`,
      options,
    );
    this.name = 'InvalidRetryDelayError';
    this.countdown = countdown;
  }
}

/** A periodic trigger asks for more runs, or runs further ahead, than one message may fan out into. */
export class InvalidExpansionError extends CelerityError {
  static override readonly recordedAs = 'InvalidExpansion';

  constructor(count: number, everySeconds: number, maxSeconds: number) {
    super(
      `beat.expansion: ${count} runs every ${everySeconds} s reach past the ${maxSeconds} s one trigger may cover`,
    );
    this.name = 'InvalidExpansionError';
  }
}

/** A task returned NaN or ±Infinity somewhere in its result: JSON has no such numbers. */
export class ResultNotSerializableError extends CelerityError {
  static override readonly recordedAs = 'ResultNotSerializable';

  constructor(where: string, value: number) {
    super(`result is not JSON-serializable: ${String(value)} at ${where} (JSON has no NaN or Infinity)`);
    this.name = 'ResultNotSerializableError';
  }
}
