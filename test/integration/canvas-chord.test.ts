import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { createProducer, createResultStore } from '../../shared/app.ts';
import { applyGroup } from '../../shared/canvas/group-apply.ts';
import { GROUP_CHUNK, readGroupRecord, writeGroupRecord } from '../../shared/canvas/group-store.ts';
import type { CelerityConfig } from '../../shared/config/index.ts';
import type { Signature } from '../../shared/envelope/signature.ts';
import { ValidationError } from '../../shared/errors.ts';
import type { Producer } from '../../shared/producer/index.ts';
import type { ResultStore } from '../../shared/results/index.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import { chordWorkers } from '../support/canvas-chord-workers.ts';
import { useEmulator } from '../support/emulator.ts';
import { type ProvisionedStack, provisionStack } from '../support/stack.ts';

useEmulator();

const registry = new TaskRegistry();
const memberRuns = new Map<string, number>();
const callbackRuns: { id: string; args: unknown[] }[] = [];
const errbackRuns: unknown[][] = [];
defineTask(
  'chord.square',
  (ctx, x: number) => {
    memberRuns.set(ctx.request.id, (memberRuns.get(ctx.request.id) ?? 0) + 1);
    return x * x;
  },
  {},
  registry,
);
defineTask(
  'chord.fail',
  (_ctx, x: number) => {
    throw new RangeError(`no square for ${x}`);
  },
  {},
  registry,
);
defineTask('chord.big', (_ctx, kb: number) => 'x'.repeat(kb * 1024), {}, registry);
const retried = new Map<string, number>();
defineTask(
  'chord.flaky',
  (ctx, x: number) => {
    if (ctx.request.retries === 0) ctx.retry({ countdown: 1 });
    retried.set(ctx.request.id, ctx.request.retries);
    return x + 100;
  },
  { maxRetries: 3 },
  registry,
);
defineTask(
  'chord.collect',
  (ctx, results: number[], label: string) => {
    callbackRuns.push({ id: ctx.request.id, args: [results, label] });
    return results.length;
  },
  {},
  registry,
);
defineTask(
  'chord.errback',
  (_ctx, ...args: unknown[]) => {
    errbackRuns.push(args);
  },
  {},
  registry,
);

let stack: ProvisionedStack;
let config: CelerityConfig;
let producer: Producer;
let store: ResultStore;

beforeAll(async () => {
  stack = await provisionStack();
  config = stack.config;
  const wiring = { config, clients: stack.clients, registry };
  producer = createProducer(wiring);
  store = createResultStore(wiring);
});

const sig = (task: string, args: unknown[], extra: Partial<Signature> = {}): Signature => ({
  task,
  id: randomUUID(),
  args,
  ...extra,
});

/** A condition for `runChord`: the task's row reads `state`. */
const reads = (id: string, state: string) => async () => (await store.get(id))?.status === state;

/** Applies a chord and drains its queue with several runtimes until `done` holds. */
async function runChord(
  members: Signature[],
  callback: Signature,
  workers: { runtimes: number; duplicateRate?: number; seed?: number },
  done: () => Promise<boolean>,
) {
  await applyGroup(
    { producer, store, resultExpires: config.resultExpires },
    { groupId: randomUUID(), members, callback },
  );
  const drained = chordWorkers({ config, clients: stack.clients, registry, ...workers });
  await drained.drainUntil(done);
  return drained;
}

describe('chord: the callback runs once, when the last member is ready (issue 12)', () => {
  it('a chord of 1,000 with duplicated deliveries and concurrent finishes calls back exactly once, results in member order', async () => {
    const size = 1_000;
    const members = Array.from({ length: size }, (_, i) => sig('chord.square', [i]));
    const callback = sig('chord.collect', ['squares']);
    const workers = await runChord(
      members,
      callback,
      { runtimes: 4, duplicateRate: 0.1, seed: 12 },
      reads(callback.id, 'SUCCESS'),
    );
    console.log(
      `chord of ${size}: ${workers.duplicated} messages delivered twice, ${workers.batches} batches (up to ${workers.mostAtOnce} at once), ${workers.givenBack} given back`,
    );
    expect(workers.duplicated).toBeGreaterThan(50);
    expect(workers.mostAtOnce).toBeGreaterThan(1);
    // Every member ran once (the duplicates found it finished), and the callback body ran once.
    expect(memberRuns.size).toBe(size);
    expect([...memberRuns.values()].every((n) => n === 1)).toBe(true);
    const runs = callbackRuns.filter((r) => r.id === callback.id);
    expect(runs).toHaveLength(1);
    expect(runs[0]?.args).toEqual([Array.from({ length: size }, (_, i) => i * i), 'squares']);
    expect(await store.get(callback.id)).toMatchObject({ status: 'SUCCESS', result: String(size) });
  }, 300_000);

  it('a failing member makes the callback a ChordError FAILURE without running it, and its errbacks run', async () => {
    const members = Array.from({ length: 30 }, (_, i) => sig(i === 17 ? 'chord.fail' : 'chord.square', [i]));
    const errback = sig('chord.errback', ['after chord']);
    const callback = sig('chord.collect', ['never'], { linkError: [errback] });
    await runChord(
      members,
      callback,
      { runtimes: 2, duplicateRate: 0.2, seed: 3 },
      reads(errback.id, 'SUCCESS'),
    );
    const failed = members[17] as Signature;
    const row = await store.get(callback.id);
    expect(row).toMatchObject({ status: 'FAILURE', errorType: 'ChordError', taskName: 'chord.collect' });
    expect(row?.traceback).toBe(`ChordError: Dependency ${failed.id} raised RangeError: no square for 17`);
    expect(callbackRuns.some((r) => r.id === callback.id)).toBe(false);
    // Celery's errback form: the failed task's (here the callback's) id first.
    expect(errbackRuns).toContainEqual([callback.id, 'after chord']);
    // The other members were not stopped.
    for (const [i, m] of members.entries())
      if (i !== 17) expect((await store.get(m.id))?.status).toBe('SUCCESS');
  }, 120_000);

  it('a revoked member makes the callback a ChordError naming it', async () => {
    const members = Array.from({ length: 5 }, (_, i) => sig('chord.square', [i]));
    const callback = sig('chord.collect', ['never']);
    await store.revoke((members[2] as Signature).id, { expiresAt: Math.floor(Date.now() / 1000) + 3600 });
    await runChord(members, callback, { runtimes: 1 }, reads(callback.id, 'FAILURE'));
    const row = await store.get(callback.id);
    expect(row?.traceback).toMatch(
      new RegExp(`^ChordError: Dependency ${(members[2] as Signature).id} raised TaskRevokedError`),
    );
    expect(callbackRuns.some((r) => r.id === callback.id)).toBe(false);
  }, 60_000);

  it("a member's RETRY is not a finish: the callback waits for its retry's result", async () => {
    const members = [sig('chord.square', [3]), sig('chord.flaky', [1]), sig('chord.square', [4])];
    const callback = sig('chord.collect', ['after retry']);
    await runChord(members, callback, { runtimes: 2 }, reads(callback.id, 'SUCCESS'));
    expect(retried.get((members[1] as Signature).id)).toBe(1);
    expect(callbackRuns.filter((r) => r.id === callback.id).map((r) => r.args)).toEqual([
      [[9, 101, 16], 'after retry'],
    ]);
  }, 60_000);
});

describe('a chord of no members', () => {
  it('calls its callback at once with no results, as Celery does', async () => {
    const callback = sig('chord.collect', ['empty']);
    await runChord([], callback, { runtimes: 1 }, reads(callback.id, 'SUCCESS'));
    expect(callbackRuns.filter((r) => r.id === callback.id).map((r) => r.args)).toEqual([[[], 'empty']]);
  }, 60_000);
});

describe('chord results over one message', () => {
  it('results that do not fit the callback message make it a ChordError FAILURE saying so; it never runs', async () => {
    // 250 KiB each: every row keeps its result (256 KiB at most), the five together are over 1 MiB.
    const members = Array.from({ length: 5 }, () => sig('chord.big', [250]));
    const callback = sig('chord.collect', ['too big']);
    await runChord(members, callback, { runtimes: 1 }, reads(callback.id, 'FAILURE'));
    const row = await store.get(callback.id);
    expect(row?.errorType).toBe('ChordError');
    expect(row?.traceback).toMatch(
      /^ChordError: the results of the 5 members do not fit the callback's message \(message for chord\.collect is \d+ bytes, over the queue's limit of \d+/,
    );
    expect(callbackRuns.some((r) => r.id === callback.id)).toBe(false);
  }, 60_000);
});

describe('group records and what apply refuses (issue 12)', () => {
  it('a group of 10,000 members of 128-character ids is kept in chunks of 1,000 and read back in order', async () => {
    const memberIds = Array.from(
      { length: 10_000 },
      (_, i) => `${String(i).padStart(6, '0')}-${'x'.repeat(121)}`,
    );
    const groupId = randomUUID();
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    await writeGroupRecord(store.dynamo, store.table, { groupId, memberIds, expiresAt, now: new Date() });
    const read = await readGroupRecord(store.dynamo, store.table, groupId);
    expect(read?.memberIds).toEqual(memberIds);
    expect(read?.chord).toBe(false);
    expect(GROUP_CHUNK).toBe(1_000);
    // No listing shows the record: it has none of the index keys.
    const page = await store.list({ limit: 50 });
    expect(page.items.some((t) => t.taskId.startsWith('group#'))).toBe(false);
  }, 60_000);

  it('a bad member sends nothing and writes no record; the error names the member', async () => {
    const deps = { producer, store, resultExpires: config.resultExpires };
    const groupId = randomUUID();
    const members = [sig('chord.square', [1]), sig('chord.square', [2], { queue: 'nowhere' })];
    const error = await applyGroup(deps, { groupId, members }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).field).toBe('members[1].queue');
    expect(await readGroupRecord(store.dynamo, store.table, groupId)).toBeUndefined();
    const twice = [members[0] as Signature, { ...(members[0] as Signature), args: [3] }];
    const reused = await applyGroup(deps, { groupId, members: twice }).catch((e: unknown) => e);
    expect((reused as ValidationError).field).toBe('members[1].id');
    const callback = sig('chord.collect', ['x'], { queue: 'nowhere' });
    const good = [sig('chord.square', [1])];
    const badCallback = await applyGroup(deps, { groupId, members: good, callback }).catch((e: unknown) => e);
    expect((badCallback as ValidationError).field).toBe('callback.queue');
    expect(await readGroupRecord(store.dynamo, store.table, groupId)).toBeUndefined();
  });
});
