import { afterEach, describe, expect, it } from 'vitest';
import { Signature } from '../../shared/canvas/signature.ts';
import { resetConfig } from '../../shared/config/index.ts';
import { ValidationError } from '../../shared/errors.ts';
import { callToEnvelope } from '../../shared/producer/call.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';

const registry = new TaskRegistry();
const add = defineTask('apps.canvas.tasks.add', (_ctx, a: number, b: number) => a + b, { registry });
const report = defineTask('apps.canvas.tasks.report', (_ctx, note: { queue: string }) => note.queue, {
  registry,
});

describe('task.s() and task.si()', () => {
  afterEach(() => resetConfig());

  it('returns a Signature with positional args, or args, kwargs and options from one object', () => {
    const positional = add.s(2, 3);
    expect(positional).toBeInstanceOf(Signature);
    expect(positional.task).toBe('apps.canvas.tasks.add');
    expect(positional.args).toEqual([2, 3]);
    expect(positional.immutable).toBe(false);
    const withOptions = add.s({ args: [2, 3], kwargs: { k: 1 }, countdown: 5, queue: 'default' });
    expect(withOptions.args).toEqual([2, 3]);
    expect(withOptions.kwargs).toEqual({ k: 1 });
    expect(withOptions.options).toMatchObject({ countdown: 5, queue: 'default' });
  });

  it('takes one object that is not made of call options as a positional argument', () => {
    expect(report.s({ queue: 'x', size: 3 } as never).args).toEqual([{ queue: 'x', size: 3 }]);
    // Every key is an option name: the explicit form says it is an argument.
    expect(report.signature({ args: [{ queue: 'x' }] }).args).toEqual([{ queue: 'x' }]);
  });

  it('si() is immutable: args given later are ignored', () => {
    const sig = add.si(1, 1);
    expect(sig.immutable).toBe(true);
    expect(sig.toCall({ args: [99] }).args).toEqual([1, 1]);
    expect(sig.toJSON()).toMatchObject({ immutable: true, args: [1, 1] });
  });

  it('puts later args before its own, as a Celery partial does', () => {
    expect(add.s(2).toCall({ args: [4] }).args).toEqual([4, 2]);
    expect(add.s(2).clone({ args: [4] }).args).toEqual([4, 2]);
  });
});

describe('Signature', () => {
  it('fixes its id once, in freeze() and toJSON(), and gives the wire JSON', () => {
    const sig = add.s(1, 2).set({ countdown: 3, timeLimit: 30 });
    expect(sig.id).toBeUndefined();
    const frozen = { id: sig.fixId() };
    expect(sig.id).toBe(frozen.id);
    const json = sig.toJSON();
    expect(json).toEqual({
      task: 'apps.canvas.tasks.add',
      id: frozen.id,
      args: [1, 2],
      countdown: 3,
      timeLimit: 30,
    });
    expect(sig.toJSON().id).toBe(frozen.id);
    expect(add.s().fixId('my-id')).toBe('my-id');
  });

  it('clone() copies args, kwargs and options but not the id', () => {
    const sig = add.s(1, 2).set({ queue: 'default', taskId: 'fixed' });
    const copy = sig.clone({ countdown: 1 });
    expect(copy).not.toBe(sig);
    expect(copy.id).toBeUndefined();
    expect(copy.args).toEqual([1, 2]);
    expect(copy.options).toMatchObject({ queue: 'default', countdown: 1 });
    expect(sig.options.countdown).toBeUndefined();
  });

  it('carries links as nested signatures in its JSON, and makes a relative expires a time', () => {
    const before = Date.now();
    const linked = add
      .s({ args: [1], expires: 60 })
      .link(add.s(10))
      .onError({ task: 'apps.canvas.tasks.report', id: 'err-1' });
    const json = linked.toJSON();
    expect(json.link?.[0]).toMatchObject({ task: 'apps.canvas.tasks.add', args: [10] });
    expect(json.link?.[0]?.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(json.linkError).toEqual([{ task: 'apps.canvas.tasks.report', id: 'err-1' }]);
    expect(Date.parse(json.expires as string)).toBeGreaterThanOrEqual(before + 60_000);
  });

  it('gives a link without an id a new one per call, the same one within a call, and leaves it unfixed', () => {
    const callback = add.s(10);
    const first = add.s(1).toCall({ link: callback, linkError: callback });
    const second = add.s(1).toCall({ link: callback });
    expect(first.link?.[0]?.id).toBe(first.linkError?.[0]?.id);
    expect(second.link?.[0]?.id).not.toBe(first.link?.[0]?.id);
    expect(callback.id).toBeUndefined();
    callback.fixId('cb-1');
    expect(add.s(1).toCall({ link: callback }).link?.[0]?.id).toBe('cb-1');
  });

  it('refuses an eta in its JSON and a link nested too deep, naming the field', () => {
    expect(() => add.s({ eta: new Date() }).toJSON()).toThrow(ValidationError);
    expect(() => add.s({ eta: new Date() }).toJSON()).toThrow(/signature\.eta/);
    const deep = add.s().link(add.s().link(add.s()));
    expect(() => deep.toJSON()).toThrow(/signature\.link\.0/);
  });
});

describe('the call → envelope mapping', () => {
  it('carries link, linkError, chain, group and per-call time limits', () => {
    const call = add.s(1, 2).set({ timeLimit: 10, softTimeLimit: 5 }).link(add.s(3)).toCall();
    const envelope = callToEnvelope(
      {
        ...call,
        linkError: [{ task: 'apps.canvas.tasks.report', id: 'e1' }],
        chain: [{ task: 'apps.canvas.tasks.add', id: 'c1', args: [4] }],
        group: { id: 'g1', index: 0, size: 2 },
      },
      Date.now(),
    );
    expect(envelope).toMatchObject({
      timeLimit: 10,
      softTimeLimit: 5,
      link: [{ task: 'apps.canvas.tasks.add', args: [3] }],
      linkError: [{ task: 'apps.canvas.tasks.report', id: 'e1' }],
      chain: [{ task: 'apps.canvas.tasks.add', id: 'c1', args: [4] }],
      group: { id: 'g1', index: 0, size: 2 },
    });
  });

  it('refuses a bad signature in link by field', () => {
    expect(() => callToEnvelope({ task: 'a.b', link: [{ task: 'a.b', id: 'bad id' }] }, Date.now())).toThrow(
      /call\.link\.0\.id/,
    );
  });
});

describe('a group of signatures', () => {
  it("routes and checks its members with their task's registry, not the default one", async () => {
    const { group } = await import('../../shared/canvas/api-group.ts');
    expect(add.s(1, 2).registry).toBe(registry);
    expect(group(add.s(1, 2), add.s(3, 4)).registry).toBe(registry);
  });
});
