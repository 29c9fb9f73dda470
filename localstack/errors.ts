import { CelerityError } from '../shared/errors.ts';

/**
 * A request sent by an in-process invocation after it was abandoned (it crashed or ran past its
 * timeout). On Lambda that code would no longer be running; the local cloud refuses the request
 * so the abandoned run cannot record anything the next delivery would then trip over.
 */
export class InvocationAbandoned extends CelerityError {
  readonly requestId: string;

  constructor(requestId: string, reason: string, options?: ErrorOptions) {
    super(`invocation ${requestId} was abandoned (${reason}); nothing it sends goes out`, options);
    this.name = 'InvocationAbandoned';
    this.requestId = requestId;
  }
}

/** `crashInvocation()` was called where no local-cloud invocation is running (an eager run, a test). */
export class NotInInvocation extends CelerityError {
  constructor() {
    super('crashInvocation() was called outside an invocation of the local cloud');
    this.name = 'NotInInvocation';
  }
}

/** A function's entry the local cloud cannot load as Lambda would: no entry, an import that fails, no handler. */
export class EntryLoadError extends CelerityError {
  readonly function: string;

  constructor(functionLogicalId: string, reason: string, cause?: unknown) {
    super(`function ${functionLogicalId}: ${reason}`, cause === undefined ? undefined : { cause });
    this.name = 'EntryLoadError';
    this.function = functionLogicalId;
  }
}
