import { describe, expect, it } from 'vitest';
import { chord, group } from '../../shared/canvas/api-group.ts';
import { GroupResult } from '../../shared/canvas/api-group-result.ts';
import { TaskFailedError } from '../../shared/producer/errors.ts';
import { defineTask } from '../../shared/task/define.ts';
import { useCliCloud } from '../support/cli-cloud.ts';
import { cliInProcess } from '../support/cli-in-process.ts';
import { useEmulator } from '../support/emulator.ts';

/**
 * Issue 12's groups through the local cloud (its pollers feeding the worker handler): a group of
 * 100 read back in member order, one failing member that stops no other, and `celerity result
 * GROUP_ID` listing the members.
 */
const { endpoint } = useEmulator();
const local = useCliCloud(endpoint);

const double = defineTask('groups.double', (_ctx, x: number) => {
  if (x === 41 || x === 77) throw new TypeError(`${x} is not doubled`);
  return x * 2;
});
const sum = defineTask('groups.sum', (_ctx, results: number[], offset: number) =>
  results.reduce((a, b) => a + b, offset),
);

const members = (n: number) => Array.from({ length: n }, (_, i) => double.s(i));

describe('group: members in parallel, results in member order (issue 12)', () => {
  it('a group of 100 with two failing members: the others succeed; get() raises the failure, or gives it in its place', async () => {
    const applied = await group(members(100)).applyAsync();
    const ids = applied.results.map((r) => r.id);
    expect(new Set(ids).size).toBe(100);
    // Celery raises the first failure in member order.
    const thrown = await applied.get({ timeout: 120 }).catch((error: unknown) => error);
    expect(thrown).toBeInstanceOf(TaskFailedError);
    expect((thrown as TaskFailedError).taskId).toBe(ids[41]);
    expect(await applied.ready()).toBe(true);
    expect(await applied.completedCount()).toBe(98);
    expect(await applied.successful()).toBe(false);
    expect(await applied.failed()).toBe(true);
    const values = await applied.get({ propagate: false });
    expect(values.filter((v) => !(v instanceof TaskFailedError))).toEqual(
      Array.from({ length: 100 }, (_, i) => i * 2).filter((v) => v !== 82 && v !== 154),
    );
    expect(values[41]).toBeInstanceOf(TaskFailedError);
    expect((values[41] as TaskFailedError).errorType).toBe('TypeError');
    // Restored by id (Celery's GroupResult.restore), the same members in the same order.
    const restored = await GroupResult.restore(applied.id);
    expect(restored.results.map((r) => r.id)).toEqual(ids);
    expect(await restored.completedCount()).toBe(98);
  }, 180_000);

  it('celerity result GROUP_ID lists the members and their states, and exits 1 for the failed one', async () => {
    const applied = await group(members(45)).applyAsync();
    await applied.get({ timeout: 120, propagate: false });
    process.env.CELERITY_STATE_FILE = local.stateFile;
    const json = await cliInProcess(['result', applied.id, '--json']);
    expect(json.code, json.stderr).toBe(1);
    const view = JSON.parse(json.stdout);
    expect(view).toMatchObject({ groupId: applied.id, size: 45, completed: 44, ready: true });
    expect(view.states).toEqual({ SUCCESS: 44, FAILURE: 1 });
    expect(view.members.map((m: { taskId: string }) => m.taskId)).toEqual(applied.results.map((r) => r.id));
    expect(view.members[41]).toMatchObject({ index: 41, status: 'FAILURE', errorType: 'TypeError' });
    const text = await cliInProcess(['result', applied.id]);
    expect(text.stdout).toMatch(/members\s+45: 44 SUCCESS, 1 FAILURE/);
    expect(text.stdout).toMatch(new RegExp(`41\\s+${applied.results[41]?.id}\\s+groups\\.double\\s+FAILURE`));
  }, 180_000);

  it('a Group keeps its id and its members’ ids: applied again, it is the same group', async () => {
    const g = group(members(3));
    const first = await g.applyAsync();
    expect(first.id).toBe(g.id);
    expect(await first.get({ timeout: 60 })).toEqual([0, 2, 4]);
    const again = await g.applyAsync();
    expect(again.id).toBe(first.id);
    expect(again.results.map((r) => r.id)).toEqual(first.results.map((r) => r.id));
    expect(await again.get({ timeout: 60 })).toEqual([0, 2, 4]);
  }, 120_000);

  it('chord(header)(callback) through the local cloud: the callback gets the results in order; its result has the group as parent', async () => {
    const result = await chord(members(30))(sum.s(1000));
    expect(await result.get({ timeout: 120 })).toBe(1000 + 29 * 30);
    expect(await result.parent.completedCount()).toBe(30);
    process.env.CELERITY_STATE_FILE = local.stateFile;
    const view = JSON.parse((await cliInProcess(['result', result.parent.id, '--json'])).stdout);
    expect(view.chord).toMatchObject({
      callbackId: result.id,
      callbackTask: 'groups.sum',
      status: 'SUCCESS',
    });
  }, 180_000);
});
