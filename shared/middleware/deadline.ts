import type { Context } from 'aws-lambda';
import { ValidationError } from '../errors.ts';
import { InvocationDeadlineError } from './errors.ts';
import { refuseUnknownOptions } from './options.ts';
import type { MiddlewareLikeObj, MiddyLikeRequest } from './types.ts';

export interface InvocationDeadlineOptions {
  /**
   * How long before the invocation's end the signal is aborted: the time the handler keeps to
   * record what finished and give back the rest.
   * @defaultValue a tenth of the time remaining when the invocation starts, at most 10 s
   */
  marginMs?: number;
}

const NAME = 'invocationDeadline';
const KEY = 'celerity:invocationDeadline';
const signals = new WeakMap<Context, AbortSignal>();

/**
 * Aborts a signal `marginMs` before the invocation would be stopped (from
 * `context.getRemainingTimeInMillis()`), with an `InvocationDeadlineError` as its reason; the
 * handler reads it with `invocationSignal(context)` and passes it on. So the handler winds down
 * while it still has time to write, instead of Lambda stopping it mid-write. A context without
 * `getRemainingTimeInMillis` (a test, a host that is not Lambda) gets a signal that never aborts.
 *
 * @example
 * export const handler = middy()
 *   .use(invocationDeadline())
 *   .handler((event, context) => work(event, { signal: invocationSignal(context) }));
 */
export function invocationDeadline(options: InvocationDeadlineOptions = {}): MiddlewareLikeObj {
  refuseUnknownOptions(NAME, options, ['marginMs']);
  const { marginMs } = options;
  if (marginMs !== undefined && !(Number.isFinite(marginMs) && marginMs >= 0))
    throw ValidationError.of(`${NAME}.marginMs`, 'must be a number of milliseconds from 0');

  const before = (request: MiddyLikeRequest): void => {
    const controller = new AbortController();
    signals.set(request.context, controller.signal);
    const remaining = remainingMs(request.context);
    if (remaining === undefined) return;
    const margin = marginMs ?? Math.min(10_000, remaining / 10);
    const timer = setTimeout(
      () => controller.abort(new InvocationDeadlineError(Math.round(remainingMs(request.context) ?? 0))),
      Math.max(0, remaining - margin),
    );
    // An early response from a later `before` skips `after`: the timer must not hold a process open.
    timer.unref();
    request.internal[KEY] = timer;
  };
  const end = (request: MiddyLikeRequest): void => {
    clearTimeout(request.internal[KEY] as NodeJS.Timeout | undefined);
  };
  return { before, after: end, onError: end };
}

/**
 * The signal `invocationDeadline` made for this invocation; `undefined` when the handler is not
 * wrapped in it (then nothing tells the handler the invocation is about to end).
 */
export function invocationSignal(context: Context): AbortSignal | undefined {
  return signals.get(context);
}

function remainingMs(context: Context): number | undefined {
  const read = (context as Partial<Context> | undefined)?.getRemainingTimeInMillis;
  if (typeof read !== 'function') return undefined;
  const remaining = read.call(context);
  return Number.isFinite(remaining) ? remaining : undefined;
}
