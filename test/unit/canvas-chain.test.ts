import { afterEach, describe, expect, it } from 'vitest';
import { afterSuccess, errbacks, unrunRows } from '../../shared/canvas/next-parts.ts';
import { Chain, chain } from '../../shared/canvas/signature.ts';
import { configure, resetConfig } from '../../shared/config/index.ts';
import { type Envelope, envelopeSchema } from '../../shared/envelope/schema.ts';
import { ValidationError } from '../../shared/errors.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import { TaskState } from '../../shared/task/states.ts';

const registry = new TaskRegistry();
const calls: unknown[][] = [];
const add = defineTask('apps.chain.tasks.add', (_ctx, a: number, b: number) => a + b, { registry });
const boom = defineTask(
  'apps.chain.tasks.boom',
  () => {
    throw new TypeError('no');
  },
  { registry },
);
const note = defineTask(
  'apps.chain.tasks.note',
  (_ctx, ...args: unknown[]) => {
    calls.push(args);
    return 'noted';
  },
  { registry },
);

const envelope = (fields: Partial<Envelope>): Envelope =>
  envelopeSchema.parse({ v: 1, id: 'parent-1', task: 'apps.chain.tasks.add', ...fields });

describe('chain() built and applied eagerly (alwaysEager)', () => {
  afterEach(() => {
    resetConfig();
    calls.length = 0;
  });

  it('passes each result on, an immutable part ignoring it, and returns the last with parent', async () => {
    configure({ alwaysEager: true });
    const result = await chain(add.s(1, 2), add.s(10), add.si(1, 1), add.s(5)).applyAsync();
    expect(await result.get()).toBe(7);
    expect(await result.parent?.get()).toBe(2);
    expect(await result.parent?.parent?.get()).toBe(13);
    expect(await result.parent?.parent?.parent?.get()).toBe(3);
    expect(result.parent?.parent?.parent?.parent).toBeUndefined();
  });

  it('stops at the first part that fails and returns it', async () => {
    configure({ alwaysEager: true });
    const result = await chain(add.s(1, 2), boom.s(), note.s('never')).applyAsync();
    expect(result.state).toBe('FAILURE');
    expect(calls).toEqual([]);
  });

  it('runs links with the result and errbacks with the failed id', async () => {
    configure({ alwaysEager: true });
    await add.applyAsync({ args: [1, 2], link: note.s('ok') });
    const failed = await boom.applyAsync({ linkError: [note.s('err'), note.si('fixed')] });
    expect(calls).toEqual([[3, 'ok'], [failed.id, 'err'], ['fixed']]);
  });

  it('spreads a chain among its parts, pipe() adds parts, and an empty chain is refused', async () => {
    const joined = add.s(1, 1).pipe(chain(add.s(2), add.s(3)), add.s(4));
    expect(joined).toBeInstanceOf(Chain);
    expect(joined.tasks.map((t) => t.args)).toEqual([[1, 1], [2], [3], [4]]);
    await expect(chain().applyAsync()).rejects.toBeInstanceOf(ValidationError);
  });

  it('link() goes on the last part, onError() on every part, as Celery’s chain.link and on_error', () => {
    const errback = note.s('err');
    const callback = note.s('done');
    const c = chain(add.s(1, 1), add.s(2)).link(callback).onError(errback);
    expect(c.tasks.map((t) => t.options.linkError)).toEqual([[errback], [errback]]);
    expect(c.tasks.map((t) => t.options.link)).toEqual([undefined, [callback]]);
  });

  it('freeze() fixes every id once, the last result walking back by parent', () => {
    configure({ resultsTable: 'results' });
    const c = chain(add.s(1, 1), add.s(2));
    const last = c.freeze();
    expect(c.tasks.map((t) => t.id)).toEqual([last.parent?.id, last.id]);
    expect(c.freeze().id).toBe(last.id);
  });
});

describe('what a ready task sends (next-parts)', () => {
  const rest = [
    { task: 'apps.chain.tasks.add', id: 'c2', args: [1] },
    { task: 'apps.chain.tasks.add', id: 'c3', immutable: true, args: [7, 7] },
  ];

  it('on success: the next part first (result prepended, the rest in its message), then links', () => {
    const parent = envelope({
      rootId: 'root-0',
      chain: [{ task: 'apps.chain.tasks.add', id: 'c1', args: [5], countdown: 10 }, ...rest],
      link: [{ task: 'apps.chain.tasks.note', id: 'l1', immutable: true, args: ['x'] }],
    });
    const record = { taskId: 'parent-1', status: TaskState.SUCCESS, result: '{"n":1}' };
    const [next, link] = afterSuccess(parent, record, Date.parse('2026-01-01T00:00:00Z'));
    expect(next?.kind).toBe('chain');
    expect(next?.envelope).toMatchObject({
      id: 'c1',
      args: [{ n: 1 }, 5],
      chain: rest,
      parentId: 'parent-1',
      rootId: 'root-0',
      eta: '2026-01-01T00:00:10.000Z',
    });
    expect(link?.envelope).toMatchObject({ id: 'l1', args: ['x'], parentId: 'parent-1' });
    expect(envelopeSchema.safeParse(next?.envelope).success).toBe(true);
  });

  it('on failure: errbacks of the failed task and of the rest, once per id, each owner’s id first', () => {
    const shared = { task: 'apps.chain.tasks.note', id: 'e-shared' };
    const parent = envelope({
      linkError: [shared],
      chain: [
        {
          task: 'apps.chain.tasks.add',
          id: 'c1',
          linkError: [shared, { task: 'apps.chain.tasks.note', id: 'e1' }],
        },
      ],
    });
    const parts = errbacks(parent, Date.now());
    expect(parts.map((p) => [p.envelope.id, p.envelope.args])).toEqual([
      ['e-shared', ['parent-1']],
      ['e1', ['c1']],
    ]);
  });

  it('records the rest with the same outcome, each the child of the one before', () => {
    const rows = unrunRows(
      'failed-1',
      rest,
      { status: TaskState.FAILURE, errorType: 'TypeError', traceback: 'TypeError: no' },
      0,
      99,
    );
    expect(rows).toMatchObject([
      { taskId: 'c2', status: 'FAILURE', errorType: 'TypeError', parentId: 'failed-1', children: ['c3'] },
      { taskId: 'c3', status: 'FAILURE', traceback: 'TypeError: no', parentId: 'c2', expiresAt: 99 },
    ]);
  });
});
