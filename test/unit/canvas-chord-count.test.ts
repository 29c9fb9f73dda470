import { BatchGetCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { seeded } from '../../localstack/dev/chaos.ts';
import { chordStep } from '../../shared/canvas/chord-step.ts';
import type { FinishedTask, FollowUpDeps } from '../../shared/canvas/follow-ups.ts';
import { chordKey, groupItems } from '../../shared/canvas/group-store.ts';
import { resolveConfig } from '../../shared/config/config.ts';
import { MessageTooLargeError } from '../../shared/envelope/errors.ts';
import type { Envelope, EnvelopeInput } from '../../shared/envelope/schema.ts';
import type { Signature } from '../../shared/envelope/signature.ts';
import { EnqueueError } from '../../shared/producer/errors.ts';
import type { Producer } from '../../shared/producer/producer.ts';
import type { TaskResultRecord } from '../../shared/results/record.ts';
import type { ResultStore } from '../../shared/results/store.ts';

/**
 * The chord step's error paths against a table kept in memory: a fake client that does what the
 * step's few requests do (ADD to a set, a conditional put, BatchGet), and fails where told.
 */
class FakeTable {
  readonly items = new Map<string, Record<string, unknown>>();
  readonly requests: string[] = [];
  fail: ((command: unknown) => Error | undefined) | undefined;

  async send(command: unknown): Promise<Record<string, unknown>> {
    const failure = this.fail?.(command);
    if (failure) throw failure;
    if (command instanceof UpdateCommand) return this.#update(command.input);
    if (command instanceof PutCommand) return this.#put(command.input);
    if (command instanceof BatchGetCommand) {
      const keys = Object.values(command.input.RequestItems ?? {})[0]?.Keys ?? [];
      const found = keys.flatMap((k) => {
        const item = this.items.get(String(k.taskId));
        return item ? [item] : [];
      });
      return { Responses: { results: found } };
    }
    throw new Error(`the fake does not do ${(command as object).constructor.name}`);
  }

  #update(input: UpdateCommand['input']): Record<string, unknown> {
    const key = String(input.Key?.taskId);
    this.requests.push(`update ${key}`);
    const item = this.items.get(key);
    if (input.ConditionExpression === 'attribute_exists(taskId)' && !item) throw conditionFailed();
    const next: Record<string, unknown> = { ...(item ?? { taskId: key }) };
    const values = input.ExpressionAttributeValues ?? {};
    for (const [, name, value] of (input.UpdateExpression ?? '').matchAll(/ADD (\w+) (:\w+)/g)) {
      const set = new Set((next[name as string] as Set<number> | undefined) ?? []);
      for (const v of values[value as string] as Set<number>) set.add(v);
      next[name as string] = set;
    }
    if (input.UpdateExpression?.includes('settledAt')) next.settledAt ??= values[':now'];
    if (input.UpdateExpression?.includes('SET added')) next.added = true;
    this.items.set(key, next);
    return { Attributes: next };
  }

  #put(input: PutCommand['input']): Record<string, unknown> {
    const item = input.Item as Record<string, unknown>;
    const old = this.items.get(String(item.taskId));
    if (input.ConditionExpression === 'attribute_not_exists(taskId)' && old)
      throw conditionFailed({ status: { S: String(old.status) }, errorType: { S: String(old.errorType) } });
    this.items.set(String(item.taskId), item);
    return {};
  }
}

function conditionFailed(item?: Record<string, unknown>): Error {
  return Object.assign(new Error('The conditional request failed'), {
    name: 'ConditionalCheckFailedException',
    ...(item ? { Item: item } : {}),
  });
}

const config = resolveConfig({ resultsTable: 'results' }, {});
const sig = (task: string, id: string, extra: Partial<Signature> = {}): Signature => ({
  task,
  id,
  args: [],
  ...extra,
});

function setUp(size: number, callback: Signature) {
  const table = new FakeTable();
  const memberIds = Array.from({ length: size }, (_, i) => `m-${i}`);
  for (const item of groupItems({
    groupId: 'c-1',
    memberIds,
    expiresAt: 2e9,
    now: new Date(),
    chord: { callback, shardSize: 100 },
  }))
    table.items.set(String(item.taskId), item);
  const sent: EnvelopeInput[] = [];
  const logged: string[] = [];
  let sendFailure: Error | undefined;
  const producer = {
    async sendEnvelopes(items: { envelope: EnvelopeInput }[]) {
      if (sendFailure) throw sendFailure;
      sent.push(...items.map((i) => i.envelope));
      return [];
    },
  } as unknown as Producer;
  const store = {
    dynamo: table,
    table: 'results',
    async getMany(ids: readonly string[]) {
      return ids.flatMap((id) => {
        const row = table.items.get(id);
        return row ? [row as unknown as TaskResultRecord] : [];
      });
    },
  } as unknown as ResultStore;
  const log = (level: string) => (message: string) => logged.push(`${level} ${message}`);
  const deps: FollowUpDeps = {
    producer,
    store,
    config,
    log: { debug() {}, info() {}, warn: log('warn'), error: log('error') },
  };
  const finish = (
    index: number,
    status: TaskResultRecord['status'] = 'SUCCESS',
    fields: Partial<TaskResultRecord> = {},
  ) => {
    const record: TaskResultRecord = { taskId: `m-${index}`, status, result: String(index), ...fields };
    table.items.set(record.taskId, record as unknown as Record<string, unknown>);
    return {
      messageId: `msg-${index}-${Math.random()}`,
      envelope: {
        id: record.taskId,
        task: 't.member',
        group: { id: 'c-1', index, size, chord: true },
      } as Envelope,
      record,
    } satisfies FinishedTask;
  };
  return { table, deps, sent, logged, finish, failSends: (e: Error) => (sendFailure = e) };
}

describe('chord counting: exact under repeats, and what it does when DynamoDB or SQS fail', () => {
  it('counts a member finished twice (or twice in one batch) once; the callback goes when the last distinct one is in', async () => {
    const t = setUp(3, sig('t.callback', 'cb'));
    await chordStep([t.finish(0), t.finish(0)], t.deps);
    await chordStep([t.finish(1)], t.deps);
    await chordStep([t.finish(1), t.finish(0)], t.deps);
    expect(t.sent).toEqual([]);
    await chordStep([t.finish(2)], t.deps);
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]).toMatchObject({ id: 'cb', task: 't.callback', args: [[0, 1, 2]] });
    // A duplicate of the last member after the callback went: it is not sent again.
    await chordStep([t.finish(2)], t.deps);
    expect(t.sent).toHaveLength(1);
  });

  it('a shard UpdateItem that fails gives back that shard’s messages only; sent again, they count and fire', async () => {
    const t = setUp(150, sig('t.callback', 'cb'));
    const batch = [t.finish(5), t.finish(120)];
    t.table.fail = (c) =>
      c instanceof UpdateCommand && c.input.Key?.taskId === 'chord#c-1#0'
        ? Object.assign(new Error('Rate exceeded'), { name: 'ProvisionedThroughputExceededException' })
        : undefined;
    const back = await chordStep(batch, t.deps);
    expect([...back.keys()]).toEqual([batch[0]?.messageId]);
    expect(back.get(batch[0]?.messageId as string)).toMatch(
      /ProvisionedThroughputExceededException: Rate exceeded/,
    );
    t.table.fail = undefined;
    await chordStep(
      Array.from({ length: 150 }, (_, i) => t.finish(i)),
      t.deps,
    );
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]?.args?.[0]).toHaveLength(150);
  });

  it('a chord whose record is gone (expired, never written) counts, says so once whole, and gives nothing back', async () => {
    const t = setUp(2, sig('t.callback', 'cb'));
    t.table.items.delete(chordKey('c-1'));
    const back = await chordStep([t.finish(0), t.finish(1)], t.deps);
    expect(back.size).toBe(0);
    expect(t.sent).toEqual([]);
    expect(t.logged).toContain('warn a chord shard is whole, but the chord has no record (expired?)');
  });

  it('a sending failure SQS may mend later gives the last member back; a second try sends the callback', async () => {
    const t = setUp(1, sig('t.callback', 'cb'));
    t.failSends(
      new EnqueueError(
        [{ index: 0, taskId: 'cb', reason: 'throttled', permanent: false, errorType: 'Throttling' }],
        [],
      ),
    );
    const member = t.finish(0);
    expect((await chordStep([member], t.deps)).has(member.messageId)).toBe(true);
    t.failSends(undefined as unknown as Error);
    expect((await chordStep([member], t.deps)).size).toBe(0);
    expect(t.sent.map((e) => e.id)).toEqual(['cb']);
  });

  it('results over the queue’s message size make the callback a ChordError FAILURE that says so; its errbacks go', async () => {
    const errback = sig('t.errback', 'eb', { args: ['x'] });
    const t = setUp(1, sig('t.callback', 'cb', { linkError: [errback] }));
    const tooLarge = new MessageTooLargeError('t.callback', 300_000, 262_144);
    t.failSends(
      new EnqueueError(
        [{ index: 0, taskId: 'cb', reason: tooLarge.message, permanent: true, errorType: 'MessageTooLarge' }],
        [],
        { cause: tooLarge },
      ),
    );
    await chordStep([t.finish(0)], t.deps);
    const row = t.table.items.get('cb') as unknown as TaskResultRecord;
    expect(row).toMatchObject({ status: 'FAILURE', errorType: 'ChordError', taskName: 't.callback' });
    expect(row.traceback).toMatch(
      /^ChordError: the results of the 1 members do not fit the callback's message/,
    );
  });

  it('a failed member fails the callback at once, naming it as Celery does; a second failure or a redelivery changes nothing but resends the errbacks', async () => {
    const errback = sig('t.errback', 'eb', { args: ['x'] });
    const t = setUp(4, sig('t.callback', 'cb', { linkError: [errback] }));
    const failed = t.finish(2, 'FAILURE', {
      errorType: 'ValueError',
      traceback: 'ValueError: bad input\n    at body',
    });
    await chordStep([t.finish(0), failed], t.deps);
    expect(t.table.items.get('cb')).toMatchObject({
      status: 'FAILURE',
      errorType: 'ChordError',
      traceback: 'ChordError: Dependency m-2 raised ValueError: bad input',
    });
    expect(t.sent).toEqual([expect.objectContaining({ id: 'eb', args: ['cb', 'x'] })]);
    await chordStep([t.finish(3, 'REVOKED', { errorType: 'TaskRevokedError' })], t.deps);
    expect((t.table.items.get('cb') as unknown as TaskResultRecord).traceback).toBe(
      'ChordError: Dependency m-2 raised ValueError: bad input',
    );
    // Every member in: still no callback, as the chord failed.
    await chordStep([t.finish(1)], t.deps);
    expect(t.sent.every((e) => e.id === 'eb')).toBe(true);
  });

  it('a failed member whose callback somehow has another row (it ran) sends no errbacks', async () => {
    const t = setUp(2, sig('t.callback', 'cb', { linkError: [sig('t.errback', 'eb')] }));
    t.table.items.set('cb', { taskId: 'cb', status: 'SUCCESS' });
    await chordStep([t.finish(0, 'FAILURE', { errorType: 'Boom' })], t.deps);
    expect(t.sent).toEqual([]);
    expect(t.table.items.get('cb')).toEqual({ taskId: 'cb', status: 'SUCCESS' });
  });

  it('a shard counting more members than it holds (a forged index) is said as an error and fires nothing', async () => {
    const t = setUp(2, sig('t.callback', 'cb'));
    t.table.items.set('chord#c-1#0', { taskId: 'chord#c-1#0', done: new Set([0, 1, 7]) });
    await chordStep([t.finish(0)], t.deps);
    expect(t.sent).toEqual([]);
    expect(t.logged).toContain(
      'error a chord shard counts more members than it holds; its callback is not sent',
    );
  });

  it('10,000 members finishing in any order, a tenth twice: one callback, results in order, and no key written more than 110 times', async () => {
    const size = 10_000;
    const t = setUp(size, sig('t.callback', 'cb'));
    const order = Array.from({ length: size }, (_, i) => i);
    const random = seeded(12);
    for (let i = size - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [order[i], order[j]] = [order[j] as number, order[i] as number];
    }
    const deliveries = order.flatMap((i) => (random() < 0.1 ? [i, i] : [i]));
    // Batches of ten, as the worker's: each touches the shards of its members.
    for (let b = 0; b < deliveries.length; b += 10)
      expect(
        (
          await chordStep(
            deliveries.slice(b, b + 10).map((i) => t.finish(i)),
            t.deps,
          )
        ).size,
      ).toBe(0);
    expect(t.sent).toHaveLength(1);
    expect(t.sent[0]?.args?.[0]).toEqual(Array.from({ length: size }, (_, i) => i));
    const writes = new Map<string, number>();
    for (const r of t.table.requests) writes.set(r, (writes.get(r) ?? 0) + 1);
    // The record: one write per shard, and one when the callback went.
    expect(writes.get('update chord#c-1')).toBe(101);
    expect(Math.max(...writes.values())).toBeLessThanOrEqual(110);
  });
});
