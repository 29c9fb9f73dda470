import { afterEach, describe, expect, it } from 'vitest';
import { chord, group } from '../../shared/canvas/api-group.ts';
import { configure, resetConfig } from '../../shared/config/index.ts';
import { TaskFailedError } from '../../shared/producer/errors.ts';
import { defineTask } from '../../shared/task/define.ts';

const bodies: unknown[][] = [];
const squareTask = defineTask('eagerchord.square', (_ctx, x: number) => {
  if (x < 0) throw new RangeError(`no square for ${x}`);
  return x * x;
});
const collect = defineTask('eagerchord.collect', (_ctx, results: number[], label: string) => {
  bodies.push([results, label]);
  return `${label}:${results.join(',')}`;
});

const square = (x: number) => squareTask.s(x);

describe('groups and chords in eager mode (task_always_eager): run inline, no AWS', () => {
  afterEach(() => resetConfig());

  it('a group runs its members in order and its GroupResult is ready at once', async () => {
    configure({ alwaysEager: true });
    const result = await group([1, 2, 3].map(square)).applyAsync();
    expect(await result.ready()).toBe(true);
    expect(await result.get()).toEqual([1, 4, 9]);
    expect(await result.completedCount()).toBe(3);
  });

  it('a chord calls back with the results in order; a failed member makes it a ChordError, not run', async () => {
    configure({ alwaysEager: true });
    bodies.length = 0;
    const ok = await chord([1, 2, 3].map(square), collect.s('sq')).applyAsync();
    expect(await ok.get()).toBe('sq:1,4,9');
    expect(await ok.parent.get()).toEqual([1, 4, 9]);
    const failing = [square(1), square(-2)];
    const bad = await chord(failing)(collect.s('never'));
    const error = await bad.get().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TaskFailedError);
    expect((error as TaskFailedError).errorType).toBe('ChordError');
    expect((error as TaskFailedError).traceback).toBe(
      `ChordError: Dependency ${(await bad.parent.refresh()).results[1]?.id} raised RangeError: no square for -2`,
    );
    expect(bodies).toEqual([[[1, 4, 9], 'sq']]);
  });
});
