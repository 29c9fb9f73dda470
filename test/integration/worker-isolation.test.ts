import { setTimeout as sleep } from 'node:timers/promises';
import { ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createProducer, createResultStore, createWorkerRuntime } from '../../shared/app.ts';
import type { CelerityConfig } from '../../shared/config/index.ts';
import { encodeEnvelope } from '../../shared/envelope/index.ts';
import type { Logger } from '../../shared/log.ts';
import { AsyncResult, EnqueueError, type Producer } from '../../shared/producer/index.ts';
import { MAX_RESULT_BYTES, type ResultStore } from '../../shared/results/index.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import { WorkerRuntime } from '../../shared/worker/index.ts';
import { useEmulator } from '../support/emulator.ts';
import { invocation, type ProvisionedStack, provisionStack, sqsRecord } from '../support/stack.ts';
import { until } from '../support/until.ts';

useEmulator();

const runs = new Map<string, number>();
const count = (id: string) => runs.set(id, (runs.get(id) ?? 0) + 1);
const registry = new TaskRegistry();
let running = 0;
let mostAtOnce = 0;
defineTask(
  'iso.count',
  async (ctx, pauseMs = 0) => {
    count(ctx.request.id);
    running++;
    mostAtOnce = Math.max(mostAtOnce, running);
    await sleep(pauseMs as number);
    running--;
    return 'counted';
  },
  {},
  registry,
);
let openGate: () => void = () => {};
const gate = new Promise<void>((resolve) => {
  openGate = resolve;
});
defineTask(
  'iso.gated',
  async (ctx) => {
    count(ctx.request.id);
    await gate;
    return 'counted';
  },
  {},
  registry,
);
const DELAYS: Record<string, number> = { huge: 1e13, nan: Number.NaN, negative: -1, ok: 5, day: 86_400 };
defineTask(
  'iso.retry',
  (ctx, delay: string, _padding?: string) => {
    count(ctx.request.id);
    ctx.retry({ countdown: DELAYS[delay] });
  },
  { maxRetries: 3 },
  registry,
);
defineTask(
  'iso.fail',
  (ctx) => {
    count(ctx.request.id);
    throw new Error('boom');
  },
  {},
  registry,
);
defineTask(
  'iso.big',
  (ctx, bytes: number) => {
    count(ctx.request.id);
    return 'x'.repeat(bytes);
  },
  {},
  registry,
);

let stack: ProvisionedStack;
let config: CelerityConfig;
let runtime: WorkerRuntime;
let store: ResultStore;
const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
const logger: Logger = {
  debug() {},
  info() {},
  warn: (message, fields) => lines.push({ level: 'warn', message, ...(fields ? { fields } : {}) }),
  error: (message, fields) => lines.push({ level: 'error', message, ...(fields ? { fields } : {}) }),
};

const body = (id: string, task: string, args: unknown[] = [], extra: Record<string, unknown> = {}) =>
  encodeEnvelope({ v: 1, id, task, args, queue: 'default', origin: 'test', ...extra }).body;
const returned = (response: { batchItemFailures: { itemIdentifier: string }[] }) =>
  response.batchItemFailures.map((f) => f.itemIdentifier).sort();

beforeAll(async () => {
  stack = await provisionStack();
  config = stack.config;
  const wiring = { config, clients: stack.clients, registry };
  runtime = createWorkerRuntime({ ...wiring, logger });
  store = createResultStore(wiring);
});

describe('one record never fails its batch (finding 1)', () => {
  it('a retry countdown of 1e13, NaN or -1 is that task’s FAILURE; its batch-mates run once and are not returned', async () => {
    const records = [
      sqsRecord(body('iso-huge', 'iso.retry', ['huge'])),
      sqsRecord(body('iso-mate-1', 'iso.count')),
      sqsRecord(body('iso-nan', 'iso.retry', ['nan'])),
      sqsRecord(body('iso-negative', 'iso.retry', ['negative'])),
      sqsRecord(body('iso-mate-2', 'iso.count')),
    ];
    const response = await runtime.processBatch(records, invocation());
    expect(response.batchItemFailures).toEqual([]);
    for (const id of ['iso-huge', 'iso-nan', 'iso-negative']) {
      const row = await store.get(id);
      expect(row).toMatchObject({ status: 'FAILURE', errorType: 'InvalidRetryDelay' });
      expect(row?.traceback).toMatch(/retry countdown .* is not a finite number of seconds/);
    }
    for (const id of ['iso-mate-1', 'iso-mate-2']) {
      expect(runs.get(id)).toBe(1);
      expect((await store.get(id))?.status).toBe('SUCCESS');
    }
  });

  it('a retry a day away is accepted and goes through a one-time schedule', async () => {
    const response = await runtime.processBatch(
      [sqsRecord(body('iso-day', 'iso.retry', ['day']))],
      invocation(),
    );
    expect(response.batchItemFailures).toEqual([]);
    const row = await store.get('iso-day');
    expect(row).toMatchObject({ status: 'RETRY', retries: 1 });
    expect(Date.parse(row?.eta as string) - Date.now()).toBeGreaterThan(86_000_000);
    const { Schedules } = await stack.clients.scheduler.send(
      new ListSchedulesCommand({ GroupName: config.scheduler?.groupName }),
    );
    expect(Schedules).toHaveLength(1);
  });

  it('a periodic run whose guard names a zone that does not exist is its own poison FAILURE; its batch-mate runs', async () => {
    const guard = { timezone: 'Mars/Olympus_Mons', daysOfMonth: [1] };
    // Written raw, as a hostile producer would: the encoder refuses such a zone.
    const good = JSON.parse(body('iso-zone', 'iso.count'));
    const bad = sqsRecord(JSON.stringify({ ...good, beat: { scheduledAt: '2026-11-02T09:00:00Z', guard } }));
    const mate = sqsRecord(body('iso-zone-mate', 'iso.count'));
    const response = await runtime.processBatch([bad, mate], invocation());
    expect(returned(response)).toEqual([bad.messageId]);
    expect(await store.get('iso-zone')).toMatchObject({ status: 'FAILURE' });
    expect((await store.get('iso-zone'))?.traceback).toMatch(/time zone|timezone/i);
    expect(runs.get('iso-zone')).toBeUndefined();
    expect(runs.get('iso-zone-mate')).toBe(1);
  });

  it('logs one warning naming every returned record and why', async () => {
    lines.length = 0;
    const poison = sqsRecord('not json');
    const mate = sqsRecord(body('iso-log-mate', 'iso.count'));
    await runtime.processBatch([poison, mate], invocation());
    const warning = lines.find((l) => l.message === 'batch returns records to their queue');
    expect(warning?.fields).toMatchObject({ count: 1, of: 2 });
    expect(warning?.fields?.records).toEqual([
      { messageId: poison.messageId, reason: expect.stringMatching(/\S/) },
    ]);
  });
});

describe('one bad resend never fails the others (finding 2, worker side)', () => {
  it('a retry that grows past the queue’s size limit is FAILURE MessageTooLarge; the batch-mate’s retry is still sent', async () => {
    const { Attributes } = await stack.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: config.queues.default?.url,
        AttributeNames: ['MaximumMessageSize'],
      }),
    );
    const limit = Number(Attributes?.MaximumMessageSize ?? 262_144);
    const base = Buffer.byteLength(body('iso-too-large', 'iso.retry', ['ok', '']));
    const large = sqsRecord(body('iso-too-large', 'iso.retry', ['ok', 'p'.repeat(limit - base - 10)]));
    expect(Buffer.byteLength(large.body)).toBeLessThanOrEqual(limit);
    const mate = sqsRecord(body('iso-retry-mate', 'iso.retry', ['ok']));
    const response = await runtime.processBatch([large, mate], invocation());
    expect(response.batchItemFailures).toEqual([]);
    expect(await store.get('iso-too-large')).toMatchObject({
      status: 'FAILURE',
      errorType: 'MessageTooLarge',
    });
    expect(await store.get('iso-retry-mate')).toMatchObject({ status: 'RETRY', retries: 1 });
  });

  it('honours the producer’s per-entry verdict: a permanent refusal is that record’s FAILURE, a transient one returns it', async () => {
    const refusing = {
      async sendEnvelopes(items: readonly { envelope: { id?: string } }[]) {
        const failed = items.flatMap((item, index) =>
          item.envelope.id === 'iso-refused'
            ? [
                {
                  index,
                  taskId: 'iso-refused',
                  reason: 'no queue named "gone"',
                  permanent: true,
                  errorType: 'UnknownQueue',
                },
              ]
            : item.envelope.id === 'iso-throttled'
              ? [
                  {
                    index,
                    taskId: 'iso-throttled',
                    reason: 'Throttling',
                    permanent: false,
                    errorType: 'Throttling',
                  },
                ]
              : [],
        );
        if (failed.length) throw new EnqueueError(failed, []);
        return [];
      },
    } as unknown as Producer;
    const local = new WorkerRuntime({ registry, config, store, producer: refusing, logger });
    const refused = sqsRecord(body('iso-refused', 'iso.retry', ['ok']));
    const throttled = sqsRecord(body('iso-throttled', 'iso.retry', ['ok']));
    const fine = sqsRecord(body('iso-resent', 'iso.retry', ['ok']));
    const response = await local.processBatch([refused, throttled, fine], invocation());
    expect(returned(response)).toEqual([throttled.messageId]);
    expect(await store.get('iso-refused')).toMatchObject({ status: 'FAILURE', errorType: 'UnknownQueue' });
    expect(await store.get('iso-resent')).toMatchObject({ status: 'RETRY', retries: 1 });
  });

  it('an envelope naming a queue that is no route is poison at decode (UnknownQueue)', async () => {
    const record = sqsRecord(body('iso-no-route', 'iso.count', [], { queue: 'nowhere' }));
    const response = await runtime.processBatch([record], invocation());
    expect(returned(response)).toEqual([record.messageId]);
    expect(runs.get('iso-no-route')).toBeUndefined();
    expect(await store.get('iso-no-route')).toMatchObject({
      status: 'FAILURE',
      errorType: 'UnknownQueue',
      poison: true,
    });
  });
});

describe('redrive (finding 3)', () => {
  it('a message for a task not yet deployed runs once it is, when redriven; a task that really failed stays failed', async () => {
    const message = body('iso-late', 'iso.late');
    const first = await runtime.processBatch([sqsRecord(message)], invocation());
    expect(first.batchItemFailures).toHaveLength(1);
    expect(await store.get('iso-late')).toMatchObject({ status: 'FAILURE', errorType: 'NotRegistered' });
    // The deploy: the task now exists. The DLQ redrive delivers the same message again.
    defineTask('iso.late', (ctx) => count(ctx.request.id), {}, registry);
    const redriven = await runtime.processBatch([sqsRecord(message, 6)], invocation());
    expect(redriven.batchItemFailures).toEqual([]);
    expect(runs.get('iso-late')).toBe(1);
    expect((await store.get('iso-late'))?.status).toBe('SUCCESS');

    const failing = body('iso-ran-and-failed', 'iso.fail');
    await runtime.processBatch([sqsRecord(failing)], invocation());
    await runtime.processBatch([sqsRecord(failing, 2)], invocation());
    expect(runs.get('iso-ran-and-failed')).toBe(1);
    expect(await store.get('iso-ran-and-failed')).toMatchObject({ status: 'FAILURE', errorType: 'Error' });
  });
});

describe('results that never lie (finding 6)', () => {
  it('a result over the row’s limit is FAILURE ResultTooLarge naming size and limit, never a cut SUCCESS', async () => {
    const response = await runtime.processBatch(
      [sqsRecord(body('iso-big', 'iso.big', [MAX_RESULT_BYTES + 1000]))],
      invocation(),
    );
    expect(response.batchItemFailures).toEqual([]);
    const row = await store.get('iso-big');
    expect(row).toMatchObject({ status: 'FAILURE', errorType: 'ResultTooLarge' });
    expect(row?.traceback).toContain(`${MAX_RESULT_BYTES + 1002} bytes`);
    expect(row?.traceback).toContain(String(MAX_RESULT_BYTES));
    expect(row?.result).toBeUndefined();
    // Just under the limit is kept whole, and reads back as the very value.
    await runtime.processBatch(
      [sqsRecord(body('iso-big-ok', 'iso.big', [MAX_RESULT_BYTES - 10]))],
      invocation(),
    );
    const ok = await new AsyncResult<string>('iso-big-ok', { store }).refresh();
    expect(ok.state).toBe('SUCCESS');
    expect(ok.result).toHaveLength(MAX_RESULT_BYTES - 10);
  });

  it('a row cut by an older version reads back as a failure, never as a SyntaxError or a marker', async () => {
    await stack.clients.dynamo.send(
      new PutCommand({
        TableName: store.table,
        Item: {
          taskId: 'iso-legacy-cut',
          status: 'SUCCESS',
          result: '"xxxx…[truncated by Celerity: over DynamoDB item size]',
          truncated: ['result'],
          dateCreated: new Date().toISOString(),
        },
      }),
    );
    const result = await new AsyncResult('iso-legacy-cut', { store }).refresh();
    expect(() => result.result).not.toThrow();
    expect(result.result).toBeUndefined();
    expect(result.state).toBe('FAILURE');
    expect(result.record?.errorType).toBe('ResultUnreadable');
  });
});

describe('leases (finding 7)', () => {
  it('a poison message reusing a running task’s id never overwrites its lease; the run’s completion lands', async () => {
    const real = runtime.processBatch([sqsRecord(body('iso-leased', 'iso.gated'))], invocation());
    // The body runs only once the claim is made: from then on the run holds its lease.
    await until('the real run to start', async () => runs.get('iso-leased'));
    const poison = sqsRecord(body('iso-leased', 'iso.notdeployed'));
    let rejected: Awaited<typeof real>;
    try {
      rejected = await runtime.processBatch([poison], invocation());
      expect((await store.get('iso-leased'))?.status).toBe('PENDING');
    } finally {
      openGate();
    }
    expect(returned(rejected)).toEqual([poison.messageId]);
    expect((await real).batchItemFailures).toEqual([]);
    expect(runs.get('iso-leased')).toBe(1);
    expect(await store.get('iso-leased')).toMatchObject({ status: 'SUCCESS', result: '"counted"' });
  });
});

describe('in-invocation concurrency (finding 13, worker side)', () => {
  it('runs at most workerConcurrency bodies at once, and every one of the batch', async () => {
    const limited = createWorkerRuntime({
      config: { ...config, workerConcurrency: 2 },
      clients: stack.clients,
      registry,
      logger,
    });
    mostAtOnce = 0;
    const records = Array.from({ length: 6 }, (_, i) => sqsRecord(body(`iso-conc-${i}`, 'iso.count', [30])));
    expect((await limited.processBatch(records, invocation())).batchItemFailures).toEqual([]);
    expect(mostAtOnce).toBe(2);
    for (let i = 0; i < 6; i++) expect(runs.get(`iso-conc-${i}`)).toBe(1);
  });
});

describe('metrics (EMF) from a real batch', () => {
  it('counts each queue and task once per batch; a poison message’s unknown name is not made a dimension', async () => {
    const documents: Record<string, unknown>[] = [];
    const measured = new WorkerRuntime({
      registry,
      config,
      store,
      producer: createProducer({ config, clients: stack.clients, registry }),
      logger,
      metrics: (document) => documents.push(document),
    });
    await measured.processBatch(
      [
        sqsRecord(body('iso-m-1', 'iso.count')),
        sqsRecord(body('iso-m-2', 'iso.count')),
        sqsRecord(body('iso-m-3', 'iso.hostile.name_12345')),
      ],
      invocation(),
    );
    expect(documents).toHaveLength(2);
    const counted = documents.find((d) => d.Task === 'iso.count');
    expect(counted).toMatchObject({ Queue: 'default', TasksSucceeded: 2, TasksFailed: 0 });
    expect(counted?.TaskRuntime).toHaveLength(2);
    expect(counted?.TaskQueueWait).toHaveLength(2);
    expect(documents.find((d) => d.Task !== 'iso.count')).toMatchObject({
      Queue: 'unknown',
      Task: 'unknown',
      TasksFailed: 1,
    });
  });
});
