import { afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { configure, resetConfig } from '../../shared/config/index.ts';
import { ValidationError } from '../../shared/errors.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';

const registry = new TaskRegistry();
let calls = 0;
const flaky = defineTask(
  'apps.eager.tasks.flaky',
  (ctx, label: string) => {
    calls++;
    if (ctx.request.retries < 2) ctx.retry({ countdown: 60 });
    return `${label}:${ctx.request.retries}`;
  },
  {},
  registry,
);
const boom = defineTask(
  'apps.eager.tasks.boom',
  () => {
    throw new Error('kaput');
  },
  {},
  registry,
);
const typed = defineTask(
  'apps.eager.tasks.typed',
  (_ctx, n: number) => n * 2,
  { argsSchema: z.tuple([z.number()]) },
  registry,
);

describe('eager mode (task_always_eager)', () => {
  afterEach(() => resetConfig());

  it('runs delay() inline, retries included, and returns a ready result', async () => {
    configure({ alwaysEager: true });
    calls = 0;
    const result = await flaky.delay('x');
    expect(result.state).toBe('SUCCESS');
    expect(await result.ready()).toBe(true);
    expect(await result.get()).toBe('x:2');
    expect(calls).toBe(3);
  });

  it('records a failure, or throws it with eagerPropagates', async () => {
    configure({ alwaysEager: true });
    const result = await boom.delay();
    expect(result.state).toBe('FAILURE');
    expect(result.traceback).toMatch(/kaput/);
    await expect(result.get()).rejects.toThrow(/FAILURE with Error/);
    configure({ eagerPropagates: true });
    await expect(boom.delay()).rejects.toThrow('kaput');
  });

  it('validates args before running', async () => {
    configure({ alwaysEager: true });
    await expect(typed.delay('two' as never)).rejects.toBeInstanceOf(ValidationError);
    await expect(typed.delay(21).then((r) => r.get())).resolves.toBe(42);
  });
});
