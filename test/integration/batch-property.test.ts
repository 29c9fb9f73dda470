import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { seeded } from '../../localstack/dev/chaos.ts';
import { createResultStore, createWorkerRuntime } from '../../shared/app.ts';
import { encodeEnvelope } from '../../shared/envelope/index.ts';
import type { Logger } from '../../shared/log.ts';
import type { ResultStore } from '../../shared/results/index.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import type { WorkerRuntime } from '../../shared/worker/index.ts';
import { useEmulator } from '../support/emulator.ts';
import { invocation, provisionStack, sqsRecord } from '../support/stack.ts';

/**
 * The batch property (issue #8): whatever mix of good, poison, hostile and crashing records a
 * batch holds, `processBatch` never throws, every good record runs exactly once and is not
 * returned, and every bad one ends recorded: a FAILURE row with a reason, an intended retry, or
 * (when it has no id to record under, or its id is a real run's) its return to the queue with the
 * reason logged. Against the emulator, 200 seeded batches; `PROPERTY_SEED` replays one.
 */

useEmulator();

const SEED = Number(process.env.PROPERTY_SEED ?? 20_261_201);
const BATCHES = 200;

const runs = new Map<string, number>();
const registry = new TaskRegistry();
const ran = (id: string) => runs.set(id, (runs.get(id) ?? 0) + 1);
/** Things a careless or hostile body does; each is picked by its first argument. */
const BEHAVIOURS: Record<string, (ctx: { retry(o: object): never }) => unknown> = {
  ok: () => 'fine',
  throwString: () => {
    throw 'a string, not an Error';
  },
  throwGetters: () => {
    const error = new Error('hidden');
    for (const key of ['name', 'message', 'stack', 'cause'])
      Object.defineProperty(error, key, {
        get() {
          throw new Error(`${key} getter`);
        },
      });
    throw error;
  },
  throwProxy: () => {
    throw new Proxy(
      {},
      {
        get() {
          throw new Error('trap');
        },
        getPrototypeOf() {
          throw new Error('trap');
        },
      },
    );
  },
  bigint: () => 10n,
  circular: () => {
    const value: Record<string, unknown> = {};
    value.self = value;
    return value;
  },
  function: () => () => 1,
  oversized: () => 'x'.repeat(300_000),
  retryHuge: (ctx) => ctx.retry({ countdown: 1e13 }),
  retryNaN: (ctx) => ctx.retry({ countdown: Number.NaN }),
  retryString: (ctx) => ctx.retry({ countdown: 'soon' }),
  retryBadEta: (ctx) => ctx.retry({ eta: new Date('not a date') }),
  retryOk: (ctx) => ctx.retry({ countdown: 1 }),
};
defineTask(
  'prop.body',
  (ctx, behaviour: string) => {
    ran(ctx.request.id);
    return BEHAVIOURS[behaviour]?.(ctx as never);
  },
  { maxRetries: 5 },
  registry,
);
defineTask(
  'prop.typed',
  (ctx, _n: number) => ran(ctx.request.id),
  { argsSchema: z.tuple([z.number()]) },
  registry,
);

/** What must become of a record. */
interface Expect {
  id?: string;
  /** 1 for a good record (and a crashing one: its body did run), 0 for one never run. */
  runs: number;
  returned: boolean;
  /** The row's state, when the record has an id of its own to record under. */
  state?: 'SUCCESS' | 'FAILURE' | 'RETRY';
  errorType?: RegExp;
}

interface Case {
  body: string;
  expect: Expect;
}

/** A valid envelope with `extra` laid over it raw, as a hostile producer would: the encoder refuses them. */
const envelope = (id: string, task: string, args: unknown[], extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    ...JSON.parse(encodeEnvelope({ v: 1, id, task, args, queue: 'default' }).body),
    ...extra,
  });

const crashing = (behaviour: string, errorType: RegExp, state: 'FAILURE' | 'RETRY' = 'FAILURE') =>
  ((id: string): Case => ({
    body: envelope(id, 'prop.body', [behaviour]),
    expect: { id, runs: 1, returned: false, state, errorType },
  })) as (id: string, goodIds: string[]) => Case;

const poison = (make: (id: string) => string, errorType: RegExp) =>
  ((id: string): Case => ({
    body: make(id),
    expect: { id, runs: 0, returned: true, state: 'FAILURE', errorType },
  })) as (id: string, goodIds: string[]) => Case;

const KINDS: Record<string, (id: string, goodIds: string[]) => Case> = {
  good: (id) => ({
    body: envelope(id, 'prop.body', ['ok']),
    expect: { id, runs: 1, returned: false, state: 'SUCCESS' },
  }),
  goodTyped: (id) => ({
    body: envelope(id, 'prop.typed', [1]),
    expect: { id, runs: 1, returned: false, state: 'SUCCESS' },
  }),
  badJson: () => ({ body: '{"v":1, not json', expect: { runs: 0, returned: true } }),
  notAnObject: () => ({ body: '[1,2,3]', expect: { runs: 0, returned: true } }),
  unknownTask: poison((id) => envelope(id, 'prop.missing', []), /NotRegistered/),
  badArgs: poison((id) => envelope(id, 'prop.typed', ['one']), /ValidationError/),
  unknownQueue: poison(
    (id) => envelope(id, 'prop.body', ['ok'], { queue: 'nowhere' }),
    /UnknownQueue|ValidationError/,
  ),
  badZone: poison(
    (id) =>
      envelope(id, 'prop.body', ['ok'], {
        beat: { scheduledAt: '2026-11-02T09:00:00Z', guard: { timezone: 'Not/AZone', daysOfMonth: [2] } },
      }),
    /RangeError|ValidationError|EnvelopeError/,
  ),
  hugeExpansion: poison(
    (id) =>
      envelope(id, 'prop.body', ['ok'], {
        beat: { scheduledAt: new Date().toISOString(), expansion: { everySeconds: 1, count: 199_999 } },
      }),
    /InvalidExpansion|ValidationError|EnvelopeError/,
  ),
  /**
   * A poison message reusing the id of a good task, of this batch (before or after it: the batch
   * is shuffled) or of an earlier one: returned, and the good task's row untouched.
   */
  reusedId: (id, goodIds) => {
    const victim = goodIds.length ? (goodIds[goodIds.length - 1] as string) : id;
    return { body: envelope(victim, 'prop.missing', []), expect: { runs: 0, returned: true } };
  },
  throwString: crashing('throwString', /^Error$/),
  throwGetters: crashing('throwGetters', /\S/),
  throwProxy: crashing('throwProxy', /\S/),
  bigint: crashing('bigint', /TypeError/),
  circular: crashing('circular', /TypeError/),
  function: crashing('function', /TypeError/),
  oversized: crashing('oversized', /ResultTooLarge/),
  retryHuge: crashing('retryHuge', /InvalidRetryDelay/),
  retryNaN: crashing('retryNaN', /InvalidRetryDelay/),
  retryString: crashing('retryString', /InvalidRetryDelay/),
  retryBadEta: crashing('retryBadEta', /InvalidRetryDelay/),
  retryOk: crashing('retryOk', /Retry/, 'RETRY'),
};
const NAMES = Object.keys(KINDS);

let runtime: WorkerRuntime;
let store: ResultStore;
const warnings: Record<string, unknown>[] = [];
const logger: Logger = {
  debug() {},
  info() {},
  warn: (message, fields) => {
    if (message === 'batch returns records to their queue' && fields) warnings.push(fields);
  },
  error() {},
};

beforeAll(async () => {
  const stack = await provisionStack();
  const wiring = { config: stack.config, clients: stack.clients, registry };
  runtime = createWorkerRuntime({ ...wiring, logger });
  store = createResultStore(wiring);
});

describe('batch isolation, as a property (finding 1)', () => {
  it(`${BATCHES} random batches of good, poison, hostile and crashing records (seed ${SEED})`, async () => {
    const next = seeded(SEED);
    const pick = <T>(list: readonly T[]) => list[Math.floor(next() * list.length)] as T;
    const goodIds: string[] = [];
    const seenKinds = new Set<string>();
    for (let batch = 0; batch < BATCHES; batch++) {
      const size = 1 + Math.floor(next() * 6);
      // About half the records are good, the rest drawn from every kind of bad.
      const kinds = Array.from({ length: size }, () => (next() < 0.45 ? 'good' : pick(NAMES)));
      const batchGood: string[] = [];
      const cases = kinds.map((kind) => {
        seenKinds.add(kind);
        const victims = batchGood.length && next() < 0.5 ? batchGood : goodIds;
        const made = (KINDS[kind] as (id: string, g: string[]) => Case)(`p${batch}-${randomUUID()}`, victims);
        if (made.expect.state === 'SUCCESS' && made.expect.id) batchGood.push(made.expect.id);
        return { kind, ...made };
      });
      // Shuffled, so a reused id comes before its good twin as often as after.
      for (let i = cases.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [cases[i], cases[j]] = [cases[j] as (typeof cases)[number], cases[i] as (typeof cases)[number]];
      }
      const records = cases.map((c) => sqsRecord(c.body));
      warnings.length = 0;
      const where = `seed ${SEED}, batch ${batch}: ${cases.map((c) => c.kind).join(', ')}`;
      const response = await runtime.processBatch(records, invocation());
      const returned = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      const reasons = new Map(
        ((warnings[0]?.records ?? []) as { messageId: string; reason: string }[]).map((r) => [
          r.messageId,
          r.reason,
        ]),
      );
      for (const [index, c] of cases.entries()) {
        const record = records[index] as (typeof records)[number];
        const what = `${where}; record ${index} (${c.kind})`;
        expect(returned.has(record.messageId), what).toBe(c.expect.returned);
        if (c.expect.returned) expect(reasons.get(record.messageId), what).toMatch(/\S/);
        if (!c.expect.id) continue;
        expect(runs.get(c.expect.id) ?? 0, what).toBe(c.expect.runs);
        const row = await store.get(c.expect.id);
        expect(row?.status, what).toBe(c.expect.state);
        if (c.expect.errorType) expect(row?.errorType, what).toMatch(c.expect.errorType);
        if (row?.status === 'FAILURE') expect(row.traceback, what).toMatch(/\S/);
        if (c.expect.state === 'SUCCESS') goodIds.push(c.expect.id);
      }
    }
    // Every good record ran exactly once, and no poison message later took over its row.
    for (const id of goodIds) {
      expect(runs.get(id), id).toBe(1);
      expect((await store.get(id))?.status, id).toBe('SUCCESS');
    }
    expect(goodIds.length).toBeGreaterThan(BATCHES);
    expect([...seenKinds].sort()).toEqual([...NAMES].sort());
  });
});
