import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { InvocationDeadlineError } from '../../shared/middleware/errors.ts';
import type { TaskContext, TaskRequest } from '../../shared/task/context.ts';
import {
  MaxRetriesExceeded,
  Reject,
  SoftTimeLimitExceeded,
  TimeLimitExceeded,
} from '../../shared/task/errors.ts';
import { resolveTaskOptions, type TaskOptions } from '../../shared/task/options.ts';
import type { RegisteredTask } from '../../shared/task/registry.ts';
import { executeTask } from '../../shared/worker/execute.ts';
import { retryCountdown } from '../../shared/worker/retry-policy.ts';

function task(
  handler: (ctx: TaskContext, ...args: never[]) => unknown,
  options: TaskOptions = {},
): RegisteredTask {
  return {
    name: 'apps.t.tasks.t',
    handler,
    options: resolveTaskOptions('apps.t.tasks.t', options),
  } as RegisteredTask;
}

function request(retries = 0): TaskRequest {
  return {
    id: 'id-1',
    task: 'apps.t.tasks.t',
    retries,
    eta: undefined,
    expires: undefined,
    origin: undefined,
    parentId: undefined,
    rootId: undefined,
    periodicTask: undefined,
    queue: 'default',
    deliveryCount: 1,
    isEager: false,
  };
}

const run = (t: RegisteredTask, retries = 0, args: unknown[] = [], deadline?: number) =>
  executeTask(t, { request: request(retries), args, kwargs: {}, ...(deadline ? { deadline } : {}) });

describe('executeTask', () => {
  it('returns what the body returns, with args spread after the context', async () => {
    const outcome = await run(
      task((_ctx, a: number, b: number) => a + b),
      0,
      [2, 3],
    );
    expect(outcome).toMatchObject({ kind: 'success', result: 5 });
  });

  it('turns ctx.retry into a retry with its countdown, until maxRetries', async () => {
    const t = task((ctx) => ctx.retry({ countdown: 7, exc: new Error('busy') }), { maxRetries: 2 });
    expect(await run(t, 0)).toMatchObject({ kind: 'retry', countdown: 7 });
    expect(await run(t, 1)).toMatchObject({ kind: 'retry', countdown: 7 });
    const last = await run(t, 2);
    expect(last.kind).toBe('failure');
    expect(last.kind === 'failure' && last.error).toBeInstanceOf(MaxRetriesExceeded);
    expect(last.kind === 'failure' && (last.error as Error).cause).toMatchObject({ message: 'busy' });
  });

  it('retries errors listed in autoretryFor by class or name, with the default delay', async () => {
    class Flaky extends Error {}
    const byClass = task(
      () => {
        throw new Flaky('x');
      },
      { autoretryFor: [Flaky], retryJitter: false },
    );
    expect(await run(byClass)).toMatchObject({ kind: 'retry', countdown: 180 });
    const byName = task(
      () => {
        throw new TypeError('x');
      },
      { autoretryFor: ['TypeError'] },
    );
    expect((await run(byName)).kind).toBe('retry');
    const other = task(
      () => {
        throw new RangeError('x');
      },
      { autoretryFor: ['TypeError'] },
    );
    expect((await run(other)).kind).toBe('failure');
  });

  it('never retries a Reject', async () => {
    const t = task(
      () => {
        throw new Reject('bad input');
      },
      { autoretryFor: [Error] },
    );
    expect((await run(t)).kind).toBe('failure');
  });

  it('aborts ctx.signal at the soft limit with SoftTimeLimitExceeded, which the task may raise', async () => {
    const t = task(
      async (ctx) => {
        await sleep(5000, undefined, { signal: ctx.signal }).catch(() => ctx.signal.throwIfAborted());
      },
      { softTimeLimit: 0.2, timeLimit: 3 },
    );
    const outcome = await run(t);
    expect(outcome.kind).toBe('failure');
    expect(outcome.kind === 'failure' && outcome.error).toBeInstanceOf(SoftTimeLimitExceeded);
    expect(outcome.runtimeMs).toBeGreaterThanOrEqual(190);
  });

  it('lets a task that catches the soft limit finish in time', async () => {
    const t = task(
      async (ctx) => {
        await sleep(5000, undefined, { signal: ctx.signal }).catch(() => undefined);
        return 'cleaned up';
      },
      { softTimeLimit: 0.1, timeLimit: 3 },
    );
    expect(await run(t)).toMatchObject({ kind: 'success', result: 'cleaned up' });
  });

  it('puts the invocation’s end on ctx.signal beside the soft limit: whichever comes first is its reason', async () => {
    const seen = (signal: AbortSignal, softTimeLimit?: number) =>
      executeTask(
        task(
          (ctx) =>
            new Promise((resolve) => {
              const name = () => resolve((ctx.signal.reason as Error).name);
              if (ctx.signal.aborted) name();
              else ctx.signal.addEventListener('abort', name);
            }),
          { timeLimit: 3, ...(softTimeLimit ? { softTimeLimit } : {}) },
        ),
        { request: request(), args: [], kwargs: {}, signal },
      );
    const ending = new AbortController();
    const first = seen(ending.signal, 2);
    ending.abort(new InvocationDeadlineError(100));
    expect(await first).toMatchObject({ kind: 'success', result: 'InvocationDeadlineError' });
    expect(await seen(new AbortController().signal, 0.05)).toMatchObject({ result: 'SoftTimeLimitExceeded' });
  });

  it('gives up at the hard limit with TimeLimitExceeded, not retried even when listed', async () => {
    const t = task(() => new Promise(() => {}), { timeLimit: 0.2, autoretryFor: [Error] });
    const outcome = await run(t);
    expect(outcome.kind === 'failure' && outcome.error).toBeInstanceOf(TimeLimitExceeded);
  });

  it('gives up at the invocation deadline when it comes before the hard limit', async () => {
    const t = task(() => new Promise(() => {}), { timeLimit: 60 });
    const outcome = await run(t, 0, [], Date.now() + 150);
    expect(outcome.kind === 'failure' && outcome.error).toBeInstanceOf(TimeLimitExceeded);
  });
});

describe('retryCountdown', () => {
  const base = { retryBackoff: 2, retryBackoffMax: 600, retryJitter: false, defaultRetryDelay: 180 };
  it('doubles from the factor and stops at the cap', () => {
    expect([0, 1, 2, 3].map((n) => retryCountdown(base, n))).toEqual([2, 4, 8, 16]);
    expect(retryCountdown(base, 20)).toBe(600);
  });
  it('draws full jitter below the backoff', () => {
    const jittered = { ...base, retryJitter: true };
    expect(retryCountdown(jittered, 3, () => 0)).toBe(0);
    expect(retryCountdown(jittered, 3, () => 0.999)).toBe(16);
  });
  it('uses the default delay without backoff', () => {
    expect(retryCountdown({ ...base, retryBackoff: 0 }, 5)).toBe(180);
  });
});
