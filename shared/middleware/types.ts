import type { Context } from 'aws-lambda';

/**
 * The part of middy's request the middlewares here read, written out so that `shared/` does not
 * depend on middy (the entries in `functions/` do), as Powertools' middlewares do.
 */
export interface MiddyLikeRequest<TEvent = unknown, TResult = unknown> {
  event: TEvent;
  context: Context;
  response: TResult | null | undefined;
  error: Error | null | undefined;
  internal: { [key: string]: unknown };
}

/** What `middy().use(...)` takes: a `before`, `after` and `onError` hook, each optional. */
export interface MiddlewareLikeObj<TEvent = unknown, TResult = unknown> {
  before?: (request: MiddyLikeRequest<TEvent, TResult>) => unknown;
  after?: (request: MiddyLikeRequest<TEvent, TResult>) => unknown;
  onError?: (request: MiddyLikeRequest<TEvent, TResult>) => unknown;
}
