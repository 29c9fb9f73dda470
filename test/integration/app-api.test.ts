import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
// LabControl's app module: its tasks and its task_routes, as app code would import them.
import '../../functions/tasks/index.ts';
import { type LocalCloud, startLocalCloud } from '../../localstack/local-cloud.ts';
import { asyncResult, revoke } from '../../shared/app.ts';
import { ValidationError } from '../../shared/errors.ts';
import { ResultTimeoutError, TaskFailedError } from '../../shared/producer/index.ts';
import * as z from '../../shared/schema.ts';
import { defineTask } from '../../shared/task/define.ts';
import { useEmulator } from '../support/emulator.ts';

const { endpoint } = useEmulator();

let gateOpen = false;
const multiply = defineTask('tests.app.multiply', (_ctx, a: number, b: number) => a * b, {
  argsSchema: z.tuple([z.number(), z.number()]),
});
const waitForGate = defineTask(
  'tests.app.wait_for_gate',
  async (ctx) => {
    while (!gateOpen) {
      if (ctx.signal.aborted) ctx.signal.throwIfAborted();
      await sleep(100);
    }
    return 'through';
  },
  { trackStarted: true, timeLimit: 20 },
);
const explode = defineTask('tests.app.explode', () => {
  throw new RangeError('out of range');
});
const notify = defineTask(
  'apps.notifications.tasks.tests_app_notify',
  (_ctx, user: string) => `told ${user}`,
);

let cloud: LocalCloud;
beforeAll(async () => {
  // The app's own API (task.delay(), asyncResult(), revoke()) against the local cloud, as app code uses it.
  cloud = await startLocalCloud({
    endpoint,
    logLevel: 'silent',
    overrides: { maximumBatchingWindowSeconds: 0 },
  });
});
afterAll(async () => {
  await cloud?.stop();
});

describe('the application API against the local cloud', () => {
  it('delay() returns an AsyncResult that reaches SUCCESS with the value', async () => {
    const result = await multiply.delay(6, 7);
    expect(await result.get({ timeout: 30 })).toBe(42);
    expect(await result.status()).toBe('SUCCESS');
    expect(await result.successful()).toBe(true);
    expect(result.record).toMatchObject({
      taskName: 'tests.app.multiply',
      args: '[6,7]',
      queue: 'default',
      retries: 0,
    });
    expect(result.record?.dateDone).toBeTruthy();
  });

  it('refuses bad args before sending, naming the argument', async () => {
    const error = await multiply.delay(6, 'seven' as never).catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('calls[0].args.1');
  });

  it('routes by glob: apps.notifications.tasks.* goes to the notifications queue', async () => {
    const result = await notify.delay('ada');
    expect(await result.get({ timeout: 30 })).toBe('told ada');
    expect(result.record?.queue).toBe('notifications');
  });

  it('get() re-raises a failure with its type and traceback, or returns it with propagate: false', async () => {
    const result = await explode.delay();
    const error = await result.get({ timeout: 30 }).catch((e) => e);
    expect(error).toBeInstanceOf(TaskFailedError);
    expect((error as TaskFailedError).errorType).toBe('RangeError');
    expect(result.traceback).toMatch(/RangeError: out of range/);
    await expect(result.get({ propagate: false })).resolves.toBeUndefined();
  });

  it('get() with a timeout gives up with ResultTimeoutError while the task is still running (trackStarted shows STARTED)', async () => {
    gateOpen = false;
    const result = await waitForGate.delay();
    const error = await result.get({ timeout: 2, interval: 0.2 }).catch((e) => e);
    expect(error).toBeInstanceOf(ResultTimeoutError);
    expect(result.state).toBe('STARTED');
    expect(await result.ready()).toBe(false);
    gateOpen = true;
    expect(await result.get({ timeout: 30 })).toBe('through');
  });

  it('revoke() before a countdown runs: the task never runs and reads REVOKED', async () => {
    const result = await multiply.applyAsync({ args: [1, 2], countdown: 3 });
    await result.revoke();
    expect(await result.status()).toBe('REVOKED');
    await sleep(5000);
    expect(await asyncResult(result.id).status()).toBe('REVOKED');
    await expect(asyncResult(result.id).get({ timeout: 1 })).rejects.toBeInstanceOf(TaskFailedError);
  });

  it('an unknown id reads PENDING, as in Celery; an empty id is refused', async () => {
    expect(await asyncResult('never-sent').status()).toBe('PENDING');
    await expect(revoke('')).rejects.toBeInstanceOf(ValidationError);
  });

  it('expires: a task that waits past its expiry is recorded REVOKED instead of running', async () => {
    const result = await multiply.applyAsync({ args: [2, 2], countdown: 3, expires: 1 });
    await expect(result.get({ timeout: 30 })).rejects.toThrow(/REVOKED with TaskExpired/);
  });
});
