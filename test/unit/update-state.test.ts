import { afterEach, describe, expect, it } from 'vitest';
import { describeTask } from '../../cli/commands/results.ts';
import { statesParam } from '../../shared/admin/routes/filters.ts';
import { configure, resetConfig } from '../../shared/config/index.ts';
import { encodeEnvelope } from '../../shared/envelope/index.ts';
import { ValidationError } from '../../shared/errors.ts';
import { taskView } from '../../shared/ops/tasks.ts';
import { AsyncResult } from '../../shared/producer/async-result.ts';
import { TaskFailedError } from '../../shared/producer/errors.ts';
import { checkedStateUpdate, createTaskContext, MAX_STATE_META_BYTES } from '../../shared/task/context.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import { taskRequest } from '../../shared/worker/execute.ts';

const request = taskRequest(
  encodeEnvelope({ v: 1, id: 't-1', task: 'apps.studies.tasks.import_studies' }).envelope,
  {
    retries: 0,
    deliveryCount: 1,
    isEager: false,
  },
);

describe('ctx.updateState (Celery update_state)', () => {
  it('hands the writer a custom state and its meta as JSON', async () => {
    const written: [string, string][] = [];
    const ctx = createTaskContext(request, {}, new AbortController().signal, async (state, meta) => {
      written.push([state, meta]);
      return true;
    });
    expect(await ctx.updateState({ state: 'PROGRESS', meta: { current: 3, total: 10 } })).toBe(true);
    expect(await ctx.updateState({ state: 'STARTED' })).toBe(true);
    expect(written).toEqual([
      ['PROGRESS', '{"current":3,"total":10}'],
      ['STARTED', 'null'],
    ]);
  });

  it.each([
    ['SUCCESS', 'state', /set by the worker/],
    ['FAILURE', 'state', /set by the worker/],
    ['REVOKED', 'state', /set by the worker/],
    ['RETRY', 'state', /set by the worker/],
    ['PENDING', 'state', /set by the worker/],
    ['', 'state', /must be a state name/],
    ['PRO#GRESS', 'state', /must be a state name/],
    ['x'.repeat(65), 'state', /must be a state name/],
  ])('refuses the state %j, naming the field', (state, field, message) => {
    const error = (() => {
      try {
        checkedStateUpdate({ state });
      } catch (thrown) {
        return thrown;
      }
    })();
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe(field);
    expect((error as ValidationError).message).toMatch(message);
  });

  it('refuses meta that is not JSON or is too large, naming meta', () => {
    expect(() => checkedStateUpdate({ state: 'PROGRESS', meta: { n: 1n } })).toThrow(/^meta: is not JSON/);
    expect(() => checkedStateUpdate({ state: 'PROGRESS', meta: () => 1 })).toThrow(
      /^meta: is not a JSON value/,
    );
    expect(() => checkedStateUpdate({ state: 'PROGRESS', meta: 'x'.repeat(MAX_STATE_META_BYTES) })).toThrow(
      /^meta: is \d+ bytes of JSON; at most 65536/,
    );
  });
});

describe('updateState in eager mode', () => {
  afterEach(() => resetConfig());

  it('is checked and goes on: the run ends with its own result', async () => {
    configure({ alwaysEager: true });
    const registry = new TaskRegistry();
    const seen: boolean[] = [];
    const task = defineTask(
      'apps.eager.tasks.progress',
      async (ctx, total: number) => {
        seen.push(await ctx.updateState({ state: 'PROGRESS', meta: { current: total } }));
        return total;
      },
      {},
      registry,
    );
    const result = await task.delay(4);
    expect(seen).toEqual([true]);
    expect(result.state).toBe('SUCCESS');
    expect(await result.get()).toBe(4);
    const refused = defineTask(
      'apps.eager.tasks.bad_progress',
      async (ctx) => ctx.updateState({ state: 'SUCCESS', meta: 1 }),
      {},
      registry,
    );
    const failed = await refused.delay();
    expect(failed.state).toBe('FAILURE');
    expect(failed.record?.errorType).toBe('ValidationError');
  });
});

describe('AsyncResult.info (Celery info)', () => {
  const at = (status: string, fields: Record<string, string> = {}) =>
    new AsyncResult('t-1', { record: { taskId: 't-1', status, ...fields } });

  it("is a custom state's meta, SUCCESS's value, FAILURE's error", () => {
    expect(at('PROGRESS', { result: '{"current":3}' }).info).toEqual({ current: 3 });
    expect(at('SUCCESS', { result: '[1,2]' }).info).toEqual([1, 2]);
    const failure = at('FAILURE', { errorType: 'ValueError', traceback: 'ValueError: bad' }).info;
    expect(failure).toBeInstanceOf(TaskFailedError);
    expect(failure).toMatchObject({ status: 'FAILURE', errorType: 'ValueError' });
    expect(at('REVOKED').info).toBeInstanceOf(TaskFailedError);
    expect(at('PENDING').info).toBeUndefined();
  });
});

describe('celerity result', () => {
  it("shows a custom state and its meta; a ready task's result as before", () => {
    const progress = describeTask(taskView({ taskId: 't-1', status: 'PROGRESS', result: '{"current":3}' }));
    expect(progress).toMatch(/^state\s+PROGRESS$/m);
    expect(progress).toMatch(/^meta\s+\{"current":3\}$/m);
    const done = describeTask(taskView({ taskId: 't-1', status: 'SUCCESS', result: '5' }));
    expect(done).toMatch(/^result\s+5$/m);
    expect(done).not.toMatch(/^meta/m);
  });
});

describe('state filters (admin API ?state=)', () => {
  it("take custom states as written and Celery's six in any case", () => {
    expect(statesParam.parse('failure,PROGRESS')).toEqual(['FAILURE', 'PROGRESS']);
    expect(statesParam.safeParse('DONE#1').success).toBe(false);
  });
});
