import { AsyncLocalStorage } from 'node:async_hooks';
import { setLogContext } from '../log.ts';
import type { MiddlewareLikeObj, MiddyLikeRequest } from './types.ts';

/** The fields of one invocation, emptied when it ends (see `injectLambdaContext`). */
interface Scope {
  fields: Record<string, unknown> | undefined;
}

const KEY = 'celerity:logContext';
const storage = new AsyncLocalStorage<Scope>();
let coldStart = true;
let installed = false;

/**
 * Puts the invocation on every log line written while it runs, by any logger made with
 * `createLogger`: `requestId`, `function` and `coldStart` (true for the container's first
 * invocation, unless provisioned concurrency initialised it beforehand), as Powertools'
 * `injectLambdaContext` does. Use it first, so the other middlewares' lines carry them too.
 *
 * The fields live in an AsyncLocalStorage, not in the logger: the local cloud runs several
 * invocations of one function at once in one process, and each line must name its own.
 *
 * @example
 * export const handler = middy().use(injectLambdaContext()).handler(work);
 */
export function injectLambdaContext(): MiddlewareLikeObj {
  if (!installed) {
    setLogContext(() => storage.getStore()?.fields);
    installed = true;
  }
  const before = (request: MiddyLikeRequest): void => {
    const { context } = request;
    const scope: Scope = {
      fields: {
        requestId: context?.awsRequestId,
        function: context?.functionName,
        coldStart: coldStart && process.env.AWS_LAMBDA_INITIALIZATION_TYPE !== 'provisioned-concurrency',
      },
    };
    coldStart = false;
    // From here on, everything this invocation does, now or later, sees the scope. The caller of
    // the handler sees it too (middy runs this hook before its first await): emptying the scope
    // when the invocation ends keeps the caller's later lines from naming an invocation that is over.
    storage.enterWith(scope);
    request.internal[KEY] = scope;
  };
  const end = (request: MiddyLikeRequest): void => {
    const scope = request.internal[KEY] as Scope | undefined;
    if (scope) scope.fields = undefined;
  };
  return { before, after: end, onError: end };
}
