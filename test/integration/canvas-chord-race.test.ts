import { randomUUID } from 'node:crypto';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createProducer, createResultStore } from '../../shared/app.ts';
import { chordStep } from '../../shared/canvas/chord-step.ts';
import type { FinishedTask, FollowUpDeps } from '../../shared/canvas/follow-ups.ts';
import { writeGroupRecord } from '../../shared/canvas/group-store.ts';
import type { Envelope, EnvelopeInput } from '../../shared/envelope/schema.ts';
import type { Producer } from '../../shared/producer/index.ts';
import type { TaskResultRecord } from '../../shared/results/index.ts';
import type { ResultStore } from '../../shared/results/store.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import { chordWorkers } from '../support/canvas-chord-workers.ts';
import { useEmulator } from '../support/emulator.ts';
import { type ProvisionedStack, provisionStack } from '../support/stack.ts';

/**
 * The chord's count against the emulator's DynamoDB, its last steps raced on purpose: the chord
 * step called at once from several invocations, as concurrent finishes and duplicated deliveries
 * of the last members would call it.
 */
useEmulator();

const registry = new TaskRegistry();
const runs: unknown[][] = [];
defineTask('race.collect', (_ctx, results: number[]) => runs.push(results), {}, registry);

let stack: ProvisionedStack;
let store: ResultStore;
let producer: Producer;

beforeAll(async () => {
  stack = await provisionStack();
  const wiring = { config: stack.config, clients: stack.clients, registry };
  producer = createProducer(wiring);
  store = createResultStore(wiring);
});

/** A chord applied without sending its members: their rows are written here as SUCCESS, one by one. */
async function chordOf(size: number) {
  const chordId = randomUUID();
  const callbackId = randomUUID();
  const memberIds = Array.from({ length: size }, (_, i) => `${chordId}-m${i}`);
  await writeGroupRecord(store.dynamo, store.table, {
    groupId: chordId,
    memberIds,
    expiresAt: Math.floor(Date.now() / 1000) + 3600,
    now: new Date(),
    chord: { callback: { task: 'race.collect', id: callbackId }, shardSize: 100 },
  });
  const sent: EnvelopeInput[] = [];
  const deps: FollowUpDeps = {
    producer: {
      sendEnvelopes: (items: { envelope: EnvelopeInput }[]) => {
        sent.push(...items.map((i) => i.envelope));
        return producer.sendEnvelopes(items);
      },
    } as unknown as Producer,
    store,
    config: stack.config,
    log: { debug() {}, info() {}, warn() {}, error() {} },
  };
  const finish = async (index: number): Promise<FinishedTask> => {
    const record: TaskResultRecord = {
      taskId: memberIds[index] as string,
      taskName: 'race.member',
      status: 'SUCCESS',
      result: String(index),
      expiresAt: Math.floor(Date.now() / 1000) + 3600,
    };
    await stack.clients.dynamo.send(new PutCommand({ TableName: store.table, Item: record }));
    return {
      messageId: randomUUID(),
      envelope: {
        id: record.taskId,
        task: 'race.member',
        group: { id: chordId, index, size, chord: true },
      } as Envelope,
      record,
    };
  };
  return { callbackId, sent, deps, finish };
}

describe('chord counting under races, on the emulator', () => {
  it('the last member finishing in 8 invocations at once may send the callback more than once; it runs once', async () => {
    const c = await chordOf(30);
    for (let i = 0; i < 29; i++) expect((await chordStep([await c.finish(i)], c.deps)).size).toBe(0);
    expect(c.sent).toEqual([]);
    const last = await c.finish(29);
    const back = await Promise.all(Array.from({ length: 8 }, () => chordStep([last], c.deps)));
    expect(back.every((m) => m.size === 0)).toBe(true);
    expect(c.sent.length).toBeGreaterThanOrEqual(1);
    expect(new Set(c.sent.map((e) => e.id))).toEqual(new Set([c.callbackId]));
    const workers = chordWorkers({ config: stack.config, clients: stack.clients, registry, runtimes: 3 });
    await workers.drainUntil(async () => (await store.get(c.callbackId))?.status === 'SUCCESS');
    console.log(`callback sent ${c.sent.length} times by 8 racing finishes of the last member`);
    expect(runs.filter((r) => (r as number[]).length === 30)).toEqual([
      Array.from({ length: 30 }, (_, i) => i),
    ]);
  }, 60_000);

  it('the last members of two shards finishing at once: exactly one of them sends the callback', async () => {
    const c = await chordOf(150);
    for (let i = 0; i < 150; i++) if (i !== 99 && i !== 149) await chordStep([await c.finish(i)], c.deps);
    const [a, b] = [await c.finish(99), await c.finish(149)];
    await Promise.all([chordStep([a], c.deps), chordStep([b], c.deps)]);
    expect(c.sent.map((e) => e.id)).toEqual([c.callbackId]);
    expect(c.sent[0]?.args?.[0]).toEqual(Array.from({ length: 150 }, (_, i) => i));
  }, 60_000);
});
