import { CelerityError } from '../errors.ts';

/** A task's return value is too large for its results row: recorded as this FAILURE, never cut. */
export class ResultTooLarge extends CelerityError {
  readonly bytes: number;
  readonly limit: number;

  constructor(bytes: number, limit: number) {
    super(`the result is ${bytes} bytes of JSON; a results row holds at most ${limit}`);
    this.name = 'ResultTooLarge';
    this.bytes = bytes;
    this.limit = limit;
  }
}

/** A stored result that is not JSON (a row cut by an older version, or edited by hand). */
export class ResultUnreadable extends CelerityError {
  constructor(reason: string) {
    super(`the stored result cannot be read back: ${reason}`);
    this.name = 'ResultUnreadable';
  }
}
