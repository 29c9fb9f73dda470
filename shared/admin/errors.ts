import { CelerityError } from '../errors.ts';

/** No bearer token, or one that is no role's: 401 with `WWW-Authenticate: Bearer`. */
export class UnauthorizedError extends CelerityError {
  readonly reason: 'missing' | 'invalid';

  constructor(reason: UnauthorizedError['reason'], options?: ErrorOptions) {
    super(
      reason === 'missing'
        ? 'send the admin or viewer token as `Authorization: Bearer <token>`'
        : 'the bearer token is not a token of this API',
      options,
    );
    this.name = 'UnauthorizedError';
    this.reason = reason;
  }
}

/** A viewer's token on a route that writes: 403. */
export class ForbiddenError extends CelerityError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'ForbiddenError';
  }
}

/** A request body over the stated limit: 413. */
export class PayloadTooLargeError extends CelerityError {
  readonly limit: number;

  constructor(limit: number, options?: ErrorOptions) {
    super(`the request body is larger than ${limit} bytes`, options);
    this.name = 'PayloadTooLargeError';
    this.limit = limit;
  }
}

/** The tokens could not be read (Secrets Manager unreachable, a secret malformed): 503, never a 401. */
export class TokensUnavailableError extends CelerityError {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TokensUnavailableError';
  }
}
