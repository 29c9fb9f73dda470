import { CelerityError } from '../errors.ts';

/** An envelope names a route queue this deployment does not have (a deploy may add it: redrivable). */
export class UnknownQueue extends CelerityError {
  readonly queue: string;

  constructor(queue: string, known: readonly string[]) {
    super(
      `envelope.queue: no route queue named ${JSON.stringify(queue)} (known: ${known.join(', ') || 'none'})`,
    );
    this.name = 'UnknownQueue';
    this.queue = queue;
  }
}

/** `ctx.retry()` asked for a delay that is not a finite number of seconds between 0 and the bound. */
export class InvalidRetryDelay extends CelerityError {
  readonly countdown: unknown;

  constructor(countdown: unknown, maxSeconds: number, options?: ErrorOptions) {
    super(
      `retry countdown ${String(countdown)} is not a finite number of seconds from 0 to ${maxSeconds}`,
      options,
    );
    this.name = 'InvalidRetryDelay';
    this.countdown = countdown;
  }
}

/** A periodic trigger asks for more runs, or runs further ahead, than one message may fan out into. */
export class InvalidExpansion extends CelerityError {
  constructor(count: number, everySeconds: number, maxSeconds: number) {
    super(
      `beat.expansion: ${count} runs every ${everySeconds} s reach past the ${maxSeconds} s one trigger may cover`,
    );
    this.name = 'InvalidExpansion';
  }
}

/** A task returned NaN or ±Infinity somewhere in its result: JSON has no such numbers. */
export class ResultNotSerializable extends CelerityError {
  constructor(where: string, value: number) {
    super(`result is not JSON-serializable: ${String(value)} at ${where} (JSON has no NaN or Infinity)`);
    this.name = 'ResultNotSerializable';
  }
}
