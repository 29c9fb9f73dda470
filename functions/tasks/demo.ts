import { setTimeout as sleep } from 'node:timers/promises';
import * as z from '../../shared/schema.ts';
import { defineTask } from '../../shared/task/index.ts';

/**
 * Small tasks that show the framework's behaviour in the local cloud and its benchmarks: a sum, a
 * flaky call that succeeds on its third attempt, a slow job under a soft limit, a no-op, and a job
 * that says how far it got (Celery's `update_state(state='PROGRESS', meta=...)`).
 */
export const add = defineTask('apps.demo.tasks.add', (_ctx, x: number, y: number) => x + y, {
  argsSchema: z.tuple([z.number(), z.number()]),
});

export const noop = defineTask('apps.demo.tasks.noop', () => null, { ignoreResult: false });

export const flaky = defineTask(
  'apps.demo.tasks.flaky',
  (ctx, label: string) => {
    if (ctx.request.retries < 2) ctx.retry({ countdown: 1, exc: new Error(`${label}: upstream busy`) });
    return `${label} succeeded after ${ctx.request.retries} retries`;
  },
  { maxRetries: 3 },
);

export const slow = defineTask(
  'apps.demo.tasks.slow',
  async (ctx, seconds: number) => {
    try {
      await sleep(seconds * 1000, undefined, { signal: ctx.signal });
      return `slept ${seconds} s`;
    } catch {
      ctx.signal.throwIfAborted();
      throw new Error('sleep interrupted');
    }
  },
  { softTimeLimit: 2, timeLimit: 4 },
);

export const progress = defineTask(
  'apps.demo.tasks.progress',
  async (ctx, steps: number) => {
    for (let done = 0; done < steps; done++) {
      await ctx.updateState({ state: 'PROGRESS', meta: { done, total: steps } });
      await sleep(1000, undefined, { signal: ctx.signal });
    }
    return `${steps} steps done`;
  },
  { argsSchema: z.tuple([z.number().check(z.int(), z.minimum(0), z.maximum(240))]) },
);
