import { describe, expect, it } from 'vitest';
import { decodeEnvelope, encodeEnvelope } from '../../shared/envelope/codec.ts';
import { resolveTaskOptions } from '../../shared/task/options.ts';
import type { RegisteredTask } from '../../shared/task/registry.ts';
import { effectiveLimits, executeTask, taskRequest } from '../../shared/worker/execute.ts';

const base = { v: 1 as const, id: 't-1', task: 'apps.demo.tasks.add', args: [1, 2] };

describe('the envelope fields of canvases and per-call limits', () => {
  it('takes a chain, links, a group membership and per-call limits', () => {
    const { envelope } = encodeEnvelope({
      ...base,
      timeLimit: 30,
      softTimeLimit: 20,
      link: [{ task: 'apps.demo.tasks.add', id: 'l-1', args: [10] }],
      linkError: [{ task: 'apps.demo.tasks.log_error', id: 'e-1', immutable: true }],
      chain: [
        {
          task: 'apps.demo.tasks.add',
          id: 'c-1',
          args: [3],
          link: [{ task: 'apps.demo.tasks.add', id: 'c-1-l' }],
        },
        { task: 'apps.demo.tasks.add', id: 'c-2', immutable: true, countdown: 5 },
      ],
      group: { id: 'g-1', index: 2, size: 3, chord: true },
    });
    expect(envelope.chain?.[0]?.link?.[0]?.id).toBe('c-1-l');
    expect(envelope.group).toEqual({ id: 'g-1', index: 2, size: 3, chord: true });
  });

  it('names what is wrong in a signature, a group or a limit', () => {
    const refused = (extra: Record<string, unknown>) => {
      try {
        decodeEnvelope(JSON.stringify({ ...base, ...extra }));
      } catch (error) {
        return String((error as Error).message);
      }
      return 'accepted';
    };
    expect(refused({ link: [{ task: 'apps.demo.tasks.add' }] })).toMatch(/link\.0\.id/);
    expect(refused({ chain: [{ task: 'bad name', id: 'x' }] })).toMatch(/chain\.0\.task/);
    // One level of follow-ups inside a signature; deeper is refused, by name.
    expect(
      refused({
        chain: [
          { task: 'a.b', id: 'x', chain: [{ task: 'a.b', id: 'y', link: [{ task: 'a.b', id: 'z' }] }] },
        ],
      }),
    ).toMatch(/chain\.0\.chain\.0\.link/);
    expect(refused({ group: { id: 'g', index: 3, size: 3 } })).toMatch(/group\.index/);
    expect(refused({ timeLimit: 0 })).toMatch(/timeLimit/);
    expect(refused({ celery: { protocol: 1 } })).toMatch(/celery\.protocol/);
  });
});

describe('per-call time limits', () => {
  it('only shorten the task’s own', () => {
    expect(effectiveLimits({ timeLimit: 60, softTimeLimit: 50 }, { timeLimit: 10 })).toEqual({
      timeLimit: 10,
      softTimeLimit: 50,
    });
    expect(effectiveLimits({ timeLimit: 60 }, { timeLimit: 600, softTimeLimit: 5 })).toEqual({
      timeLimit: 60,
      softTimeLimit: 5,
    });
    expect(effectiveLimits({ timeLimit: 60, softTimeLimit: 8 }, {})).toEqual({
      timeLimit: 60,
      softTimeLimit: 8,
    });
  });

  it('stop a run at the call’s soft limit', async () => {
    const task = {
      name: 'apps.t.tasks.slow',
      options: resolveTaskOptions('apps.t.tasks.slow', { timeLimit: 60 }),
      handler: (ctx: { signal: AbortSignal }) =>
        new Promise((_, reject) => ctx.signal.addEventListener('abort', () => reject(ctx.signal.reason))),
    } as unknown as RegisteredTask;
    const outcome = await executeTask(task, {
      request: taskRequest(encodeEnvelope({ ...base, task: task.name }).envelope, {
        retries: 0,
        deliveryCount: 1,
        isEager: false,
      }),
      args: [],
      kwargs: {},
      limits: { softTimeLimit: 0.05 },
    });
    expect(outcome.kind).toBe('failure');
    expect((outcome as { error: Error }).error.name).toBe('SoftTimeLimitExceeded');
  });
});
