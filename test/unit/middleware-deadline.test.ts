import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ValidationError } from '../../shared/errors.ts';
import {
  InvocationDeadlineError,
  type InvocationDeadlineOptions,
  invocationDeadline,
  invocationSignal,
} from '../../shared/middleware/index.ts';

/** A context whose invocation ends `remainingMs` from now, on the (fake) clock. */
function context(remainingMs: number): Context {
  const end = Date.now() + remainingMs;
  return { awsRequestId: 'req-1', getRemainingTimeInMillis: () => end - Date.now() } as unknown as Context;
}

/** A handler that hands its signal out and waits until told to return (or throw). */
function wrapped(options?: InvocationDeadlineOptions) {
  let signal: AbortSignal | undefined;
  let finish: (fail?: boolean) => void = () => {};
  const handler = middy<unknown, string, Error, Context>({ timeoutEarlyInMillis: 0 })
    .use(invocationDeadline(options))
    .handler(async (_event, ctx) => {
      signal = invocationSignal(ctx);
      const fail = await new Promise<boolean | undefined>((resolve) => {
        finish = resolve;
      });
      if (fail) throw new Error('the handler fell over');
      return 'done';
    });
  return { handler, signal: () => signal as AbortSignal, finish: (fail?: boolean) => finish(fail) };
}

describe('invocationDeadline', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  /** Runs one invocation of `remainingMs`; true when its signal aborted exactly `abortAfterMs` in. */
  async function abortsAt(
    options: InvocationDeadlineOptions | undefined,
    remainingMs: number,
    abortAfterMs: number,
  ) {
    const { handler, signal, finish } = wrapped(options);
    const done = handler({}, context(remainingMs));
    await vi.advanceTimersByTimeAsync(abortAfterMs - 1);
    const early = signal().aborted;
    await vi.advanceTimersByTimeAsync(1);
    const { aborted, reason } = signal();
    finish();
    await expect(done).resolves.toBe('done');
    return { exactly: !early && aborted, reason };
  }

  it('aborts the signal a tenth of the remaining time before the end, with InvocationDeadlineError', async () => {
    const { exactly, reason } = await abortsAt(undefined, 1_000, 900);
    expect(exactly).toBe(true);
    expect(reason).toBeInstanceOf(InvocationDeadlineError);
    expect(reason).toMatchObject({ name: 'InvocationDeadlineError', remainingMs: 100 });
  });

  it('keeps at most 10 s back by default, and exactly marginMs when given', async () => {
    expect((await abortsAt(undefined, 300_000, 290_000)).exactly).toBe(true);
    expect((await abortsAt({ marginMs: 250 }, 1_000, 750)).exactly).toBe(true);
    expect((await abortsAt({ marginMs: 0 }, 1_000, 1_000)).exactly).toBe(true);
  });

  it('stops its timer when the invocation ends, returned or thrown: no later invocation sees a stray abort', async () => {
    for (const fail of [false, true]) {
      const { handler, signal, finish } = wrapped();
      const done = handler({}, context(1_000));
      await vi.advanceTimersByTimeAsync(10);
      finish(fail);
      await done.catch(() => undefined);
      await vi.advanceTimersByTimeAsync(5_000);
      expect(signal().aborted).toBe(false);
    }
    expect(vi.getTimerCount()).toBe(0);
  });

  it('gives a signal that never aborts to a context without getRemainingTimeInMillis', async () => {
    const { handler, signal, finish } = wrapped();
    const done = handler({}, { awsRequestId: 'req-1' } as unknown as Context);
    await vi.advanceTimersByTimeAsync(3_600_000);
    expect(signal()).toBeInstanceOf(AbortSignal);
    expect(signal().aborted).toBe(false);
    finish();
    await expect(done).resolves.toBe('done');
  });

  it('has no signal to give a handler it does not wrap', () => {
    expect(invocationSignal(context(1_000))).toBeUndefined();
  });

  it('refuses an unknown option and a margin that is not a number of milliseconds, naming it', () => {
    const refused = (options: unknown) => {
      try {
        invocationDeadline(options as InvocationDeadlineOptions);
      } catch (error) {
        return error;
      }
      return undefined;
    };
    expect(refused({ marginMS: 100 })).toMatchObject({ field: 'invocationDeadline.marginMS' });
    expect(refused({ marginMs: -1 })).toMatchObject({ field: 'invocationDeadline.marginMs' });
    expect(refused({ marginMs: Number.NaN })).toBeInstanceOf(ValidationError);
  });
});
