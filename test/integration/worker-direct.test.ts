import { setTimeout as sleep } from 'node:timers/promises';
import { GetScheduleCommand, ListSchedulesCommand } from '@aws-sdk/client-scheduler';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createProducer, createResultStore, createWorkerRuntime } from '../../shared/app.ts';
import type { CelerityConfig } from '../../shared/config/index.ts';
import { encodeEnvelope } from '../../shared/envelope/index.ts';
import type { Producer } from '../../shared/producer/index.ts';
import type { ResultStore } from '../../shared/results/index.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import type { WorkerRuntime } from '../../shared/worker/index.ts';
import { useEmulator } from '../support/emulator.ts';
import { invocation, type ProvisionedStack, provisionStack, sqsRecord } from '../support/stack.ts';

useEmulator();

const runs = new Map<string, number>();
const registry = new TaskRegistry();
defineTask(
  'tests.direct.count',
  async (ctx, pauseMs: number) => {
    runs.set(ctx.request.id, (runs.get(ctx.request.id) ?? 0) + 1);
    if (pauseMs) await sleep(pauseMs);
    return 'counted';
  },
  { argsSchema: z.tuple([z.number()]) },
  registry,
);

let stack: ProvisionedStack;
let config: CelerityConfig;
let runtime: WorkerRuntime;
let store: ResultStore;
let producer: Producer;

const body = (id: string, extra: Record<string, unknown> = {}, args: unknown[] = [0]) =>
  encodeEnvelope({ v: 1, id, task: 'tests.direct.count', args, queue: 'default', ...extra }).body;

beforeAll(async () => {
  stack = await provisionStack();
  config = stack.config;
  const wiring = { config, clients: stack.clients, registry };
  runtime = createWorkerRuntime({ ...wiring, logger: { debug() {}, info() {}, warn() {}, error() {} } });
  store = createResultStore(wiring);
  producer = createProducer(wiring);
});

describe('worker runtime against the emulator', () => {
  it('never runs a finished task again when its message is delivered twice', async () => {
    const message = body('dup-finished');
    expect((await runtime.processBatch([sqsRecord(message)], invocation())).batchItemFailures).toEqual([]);
    expect((await store.get('dup-finished'))?.status).toBe('SUCCESS');
    for (let i = 0; i < 3; i++) {
      const response = await runtime.processBatch([sqsRecord(message, 2 + i)], invocation());
      expect(response.batchItemFailures).toEqual([]);
    }
    expect(runs.get('dup-finished')).toBe(1);
  });

  it('runs two concurrent deliveries of one id once; the other comes back later', async () => {
    const message = body('dup-concurrent', {}, [300]);
    const [a, b] = await Promise.all([
      runtime.processBatch([sqsRecord(message)], invocation()),
      runtime.processBatch([sqsRecord(message)], invocation()),
    ]);
    expect(runs.get('dup-concurrent')).toBe(1);
    expect(a.batchItemFailures.length + b.batchItemFailures.length).toBe(1);
    // Delivered again after its visibility timeout, it finds the task finished and is dropped.
    const again = await runtime.processBatch([sqsRecord(message, 2)], invocation());
    expect(again.batchItemFailures).toEqual([]);
    expect(runs.get('dup-concurrent')).toBe(1);
  });

  it('runs a duplicate inside one batch once', async () => {
    const message = body('dup-same-batch');
    const response = await runtime.processBatch([sqsRecord(message), sqsRecord(message)], invocation());
    expect(runs.get('dup-same-batch')).toBe(1);
    expect(response.batchItemFailures).toHaveLength(1);
  });

  it('takes over a task whose run crashed once its lease has passed', async () => {
    const message = body('crashed');
    // A run that claimed the task and died: its lease ends with its invocation.
    await store.claim([
      {
        taskId: 'crashed',
        taskName: 'tests.direct.count',
        retries: 0,
        args: '[0]',
        kwargs: '{}',
        queue: 'default',
        origin: undefined,
        periodicTask: undefined,
        eta: undefined,
        dateCreated: new Date().toISOString(),
        worker: 'dead-worker',
        status: 'STARTED',
        dateStarted: new Date().toISOString(),
        leaseUntil: Date.now() + 600_000,
        leaseToken: 'dead',
        expiresAt: Math.floor(Date.now() / 1000) + 3600,
      },
    ]);
    const early = await runtime.processBatch([sqsRecord(message, 2)], invocation());
    expect(early.batchItemFailures).toHaveLength(1);
    // Its lease passes (moved into the past rather than waited for: a loaded machine may take
    // longer than any short lease to run the first delivery).
    await stack.clients.dynamo.send(
      new UpdateCommand({
        TableName: config.resultsTable as string,
        Key: { taskId: 'crashed' },
        UpdateExpression: 'SET leaseUntil = :past',
        ExpressionAttributeValues: { ':past': Date.now() - 1 },
      }),
    );
    const late = await runtime.processBatch([sqsRecord(message, 3)], invocation());
    expect(late.batchItemFailures).toEqual([]);
    expect(runs.get('crashed')).toBe(1);
    expect((await store.get('crashed'))?.status).toBe('SUCCESS');
  });

  it('does not run a revoked task, and records an expired one as REVOKED', async () => {
    await store.revoke('revoked-1', { expiresAt: Math.floor(Date.now() / 1000) + 3600 });
    await runtime.processBatch([sqsRecord(body('revoked-1'))], invocation());
    expect(runs.get('revoked-1')).toBeUndefined();
    expect((await store.get('revoked-1'))?.status).toBe('REVOKED');

    const expired = body('expired-1', { expires: new Date(Date.now() - 1000).toISOString() });
    expect((await runtime.processBatch([sqsRecord(expired)], invocation())).batchItemFailures).toEqual([]);
    expect(runs.get('expired-1')).toBeUndefined();
    expect(await store.get('expired-1')).toMatchObject({ status: 'REVOKED', errorType: 'TaskExpired' });
  });

  it("honours a periodic run's day guard: a tick on a day Celery would skip runs nothing and records nothing", async () => {
    // Celery's `day_of_month='1-7', day_of_week='mon'` (first Monday): scheduled on Mondays, guarded on days 1-7.
    const guard = { timezone: 'Europe/London', daysOfMonth: [1, 2, 3, 4, 5, 6, 7] };
    const skipped = body('guard-skip', { beat: { scheduledAt: '2026-11-09T09:00:00Z', guard } });
    const allowed = body('guard-run', { beat: { scheduledAt: '2026-11-02T09:00:00Z', guard } });
    const response = await runtime.processBatch([sqsRecord(skipped), sqsRecord(allowed)], invocation());
    expect(response.batchItemFailures).toEqual([]);
    expect(runs.get('guard-skip')).toBeUndefined();
    expect(await store.get('guard-skip')).toBeUndefined();
    expect(runs.get('guard-run')).toBe(1);
    expect((await store.get('guard-run'))?.status).toBe('SUCCESS');
  });

  it('records a poison message as FAILURE under its id and reports it, without failing its batch-mates', async () => {
    const records = [
      sqsRecord(body('poison-args', {}, ['not a number'])),
      sqsRecord(body('poison-mate')),
      sqsRecord('{"v":1,"id":"poison-unknown","task":"tests.direct.nope"}'),
      sqsRecord('not json at all'),
    ];
    const response = await runtime.processBatch(records, invocation());
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [records[0], records[2], records[3]].map((r) => r?.messageId).sort(),
    );
    expect(await store.get('poison-args')).toMatchObject({ status: 'FAILURE', errorType: 'ValidationError' });
    expect((await store.get('poison-args'))?.traceback).toMatch(/envelope\.args\.0/);
    expect(await store.get('poison-unknown')).toMatchObject({
      status: 'FAILURE',
      errorType: 'NotRegistered',
    });
    expect((await store.get('poison-mate'))?.status).toBe('SUCCESS');
  });

  it('does not deliver a 5 s countdown before 5 s', async () => {
    const queue = config.queues.default?.url as string;
    const sentAt = Date.now();
    await producer.send({ task: 'tests.direct.count', args: [0], countdown: 5, taskId: 'countdown-5' });
    let receivedAt = 0;
    while (!receivedAt) {
      const { Messages } = await stack.clients.sqs.send(
        new ReceiveMessageCommand({ QueueUrl: queue, WaitTimeSeconds: 1, MaxNumberOfMessages: 10 }),
      );
      if (Messages?.some((m) => m.Body?.includes('countdown-5'))) receivedAt = Date.now();
      expect(Date.now() - sentAt).toBeLessThan(30_000);
    }
    expect(receivedAt - sentAt).toBeGreaterThanOrEqual(5000);
  });

  it('puts a 1 h countdown on one self-deleting at() schedule aimed at the queue', async () => {
    const sentAt = Date.now();
    await producer.send({ task: 'tests.direct.count', args: [0], countdown: 3600, taskId: 'countdown-1h' });
    const group = config.scheduler?.groupName as string;
    const { Schedules } = await stack.clients.scheduler.send(new ListSchedulesCommand({ GroupName: group }));
    expect(Schedules).toHaveLength(1);
    const schedule = await stack.clients.scheduler.send(
      new GetScheduleCommand({ GroupName: group, Name: Schedules?.[0]?.Name }),
    );
    const due = Date.parse(`${/^at\((.+)\)$/.exec(schedule.ScheduleExpression ?? '')?.[1]}Z`);
    expect(due - (sentAt + 3_600_000)).toBeGreaterThanOrEqual(0);
    expect(due - (sentAt + 3_600_000)).toBeLessThanOrEqual(2000);
    expect(schedule.ScheduleExpressionTimezone).toBe('UTC');
    expect(schedule.ActionAfterCompletion).toBe('DELETE');
    expect(schedule.Target?.Arn).toBe(config.queues.default?.arn);
    expect(schedule.Target?.RoleArn).toBe(config.scheduler?.roleArn);
    expect(JSON.parse(schedule.Target?.Input ?? '{}')).toMatchObject({
      id: 'countdown-1h',
      task: 'tests.direct.count',
    });
    // Sending the same call again does not make a second schedule.
    await producer.send({ task: 'tests.direct.count', args: [0], countdown: 3600, taskId: 'countdown-1h' });
    const after = await stack.clients.scheduler.send(new ListSchedulesCommand({ GroupName: group }));
    expect(after.Schedules).toHaveLength(1);
  });
});
