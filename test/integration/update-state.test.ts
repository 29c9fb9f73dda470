import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createWorkerRuntime } from '../../shared/app.ts';
import { celeryResultKey } from '../../shared/celery/result-backend.ts';
import type { CelerityConfig } from '../../shared/config/index.ts';
import { encodeEnvelope } from '../../shared/envelope/index.ts';
import { activeTasks, listTaskResults } from '../../shared/ops/tasks.ts';
import { AsyncResult } from '../../shared/producer/async-result.ts';
import { ResultStore } from '../../shared/results/index.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import type { WorkerRuntime } from '../../shared/worker/index.ts';
import { celeryMissing, readWithCelery } from '../support/celery-results/read.ts';
import { useEmulator } from '../support/emulator.ts';
import { invocation, type ProvisionedStack, provisionStack, sqsRecord } from '../support/stack.ts';
import { until } from '../support/until.ts';

const { endpoint } = useEmulator();
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

/** A run that waits at a gate the test opens, so the test reads its state while it runs. */
const gates = new Map<string, () => void>();
const opened = (id: string) => gates.get(id)?.();
const updates = new Map<string, boolean[]>();
let runs = 0;

const registry = new TaskRegistry();
defineTask(
  'tests.progress.import_studies',
  async (ctx, total: number) => {
    runs++;
    const written = [await ctx.updateState({ state: 'PROGRESS', meta: { current: 1, total } })];
    await new Promise<void>((resolve) => gates.set(ctx.request.id, resolve));
    written.push(await ctx.updateState({ state: 'PROGRESS', meta: { current: total, total } }));
    updates.set(ctx.request.id, written);
    return { imported: total };
  },
  {},
  registry,
);

let stack: ProvisionedStack;
let config: CelerityConfig;
let runtime: WorkerRuntime;
let store: ResultStore;

const message = (id: string, extra: Record<string, unknown> = {}) =>
  encodeEnvelope({ v: 1, id, task: 'tests.progress.import_studies', args: [10], queue: 'default', ...extra })
    .body;

beforeAll(async () => {
  stack = await provisionStack();
  config = stack.config;
  runtime = createWorkerRuntime({ config, clients: stack.clients, registry, logger: quiet });
  store = new ResultStore({ dynamo: stack.clients.dynamo, table: config.resultsTable as string });
});

/** Waits until the row shows `state` (the run is then parked at its gate). */
const rowIn = (id: string, state: string) =>
  until(`${id} in ${state}`, async () => ((await store.get(id))?.status === state ? true : undefined));

describe('ctx.updateState through the worker runtime', () => {
  it('shows PROGRESS with its meta while the task runs, then SUCCESS with its result', async () => {
    const batch = runtime.processBatch([sqsRecord(message('progress-1'))], invocation());
    await rowIn('progress-1', 'PROGRESS');

    const reader = new AsyncResult('progress-1', { store });
    expect(await reader.status()).toBe('PROGRESS');
    expect(reader.info).toEqual({ current: 1, total: 10 });
    expect(await reader.ready()).toBe(false);
    // Where Flower and `celerity tasks --state PROGRESS` look, and `inspect active` (a live lease).
    const ctx = { config, clients: stack.clients, registry };
    const listed = await listTaskResults(ctx, { states: ['PROGRESS'] });
    expect(listed.items.map((i) => [i.taskId, i.status])).toContainEqual(['progress-1', 'PROGRESS']);
    expect((await activeTasks(ctx)).map((t) => t.taskId)).toContain('progress-1');
    const started = await listTaskResults(ctx, { states: ['PENDING', 'STARTED'] });
    expect(started.items.map((i) => i.taskId)).not.toContain('progress-1');

    opened('progress-1');
    expect((await batch).batchItemFailures).toEqual([]);
    expect(await reader.get({ timeout: 5 })).toEqual({ imported: 10 });
    expect(reader.state).toBe('SUCCESS');
    expect(reader.info).toEqual({ imported: 10 });
    expect(updates.get('progress-1')).toEqual([true, true]);
  });

  it("refuses a state update once the run no longer holds the task, and never overwrites another run's row", async () => {
    const batch = runtime.processBatch([sqsRecord(message('progress-lost'))], invocation());
    await rowIn('progress-lost', 'PROGRESS');
    // Another run took the task over (this run's lease passed, say): the lease token is not ours.
    await stack.clients.dynamo.send(
      new UpdateCommand({
        TableName: config.resultsTable as string,
        Key: { taskId: 'progress-lost' },
        UpdateExpression: 'SET leaseToken = :other, #status = :started, #result = :none',
        ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
        ExpressionAttributeValues: { ':other': 'another-run', ':started': 'STARTED', ':none': 'null' },
      }),
    );
    opened('progress-lost');
    await batch;
    expect(updates.get('progress-lost')).toEqual([true, false]);
    const { Item } = await stack.clients.dynamo.send(
      new GetCommand({ TableName: config.resultsTable as string, Key: { taskId: 'progress-lost' } }),
    );
    expect(Item).toMatchObject({ leaseToken: 'another-run', status: 'STARTED', result: 'null' });
  });
});

describe.skipIf(celeryMissing !== undefined && process.env.CI !== 'true')(
  'a Celery-originated task with the Celery layout on',
  () => {
    const read = (ids: readonly string[], timeout = 1) =>
      readWithCelery(endpoint, config.celeryResultsTable as string, ids, timeout);

    it("is read by Celery's AsyncResult: PROGRESS and its info while it runs, then get() = its return", async () => {
      if (celeryMissing) throw new Error(`CI=true but ${celeryMissing}`);
      const batch = runtime.processBatch(
        [sqsRecord(message('celery-progress', { celery: { protocol: 2 }, parentId: 'celery-parent' }))],
        invocation(),
      );
      await rowIn('celery-progress', 'PROGRESS');
      const [running] = await read(['celery-progress'], 0.2);
      expect(running).toMatchObject({
        status: 'PROGRESS',
        info: { current: 1, total: 10 },
        ready: false,
        raised: { exception: 'TimeoutError' },
      });
      opened('celery-progress');
      const done = read(['celery-progress'], 30);
      expect((await batch).batchItemFailures).toEqual([]);
      expect((await done)[0]).toMatchObject({
        status: 'SUCCESS',
        get: { imported: 10 },
        info: { imported: 10 },
        traceback: null,
      });
      const { Item } = await stack.clients.dynamo.send(
        new GetCommand({
          TableName: config.celeryResultsTable as string,
          Key: { id: celeryResultKey('celery-progress') },
        }),
      );
      expect(JSON.parse(new TextDecoder().decode(Item?.result))).toMatchObject({
        parent_id: 'celery-parent',
      });
    });

    it('writes REVOKED for a Celery task revoked while it runs: its run can no longer say PROGRESS', async () => {
      const batch = runtime.processBatch(
        [sqsRecord(message('celery-revoked', { celery: { protocol: 2 } }))],
        invocation(),
      );
      await rowIn('celery-revoked', 'PROGRESS');
      expect(await store.revoke('celery-revoked', { expiresAt: Math.floor(Date.now() / 1000) + 3600 })).toBe(
        'revoked',
      );
      opened('celery-revoked');
      expect((await batch).batchItemFailures).toEqual([]);
      expect(updates.get('celery-revoked')).toEqual([true, false]);
      expect((await store.get('celery-revoked'))?.status).toBe('REVOKED');
      const [revoked] = await read(['celery-revoked']);
      expect(revoked).toMatchObject({
        status: 'REVOKED',
        raised: { exception: 'TaskRevokedError', module: 'celery.exceptions', args: ['revoked'] },
      });
    });

    it('gives the record back when the Celery item cannot be written; the redelivery writes it, running nothing', async () => {
      const broken = createWorkerRuntime({
        config: { ...config, celeryResultsTable: 'no-such-table' },
        clients: stack.clients,
        registry,
        logger: quiet,
      });
      const body = message('celery-retried-write', { celery: { protocol: 2 } });
      const first = broken.processBatch([sqsRecord(body)], invocation());
      await rowIn('celery-retried-write', 'PROGRESS');
      opened('celery-retried-write');
      const response = await first;
      expect(response.batchItemFailures).toHaveLength(1);
      // The task's own outcome is recorded whatever became of the Celery item.
      expect((await store.get('celery-retried-write'))?.status).toBe('SUCCESS');
      const before = runs;
      const again = await runtime.processBatch([sqsRecord(body, 2)], invocation());
      expect(again.batchItemFailures).toEqual([]);
      expect(runs).toBe(before);
      const [read1] = await read(['celery-retried-write']);
      expect(read1).toMatchObject({ status: 'SUCCESS', get: { imported: 10 } });
    });

    it("writes no Celery item for a task that came in Celerity's own envelope", async () => {
      const batch = runtime.processBatch([sqsRecord(message('celerity-own'))], invocation());
      await rowIn('celerity-own', 'PROGRESS');
      opened('celerity-own');
      await batch;
      const [own] = await read(['celerity-own'], 0.2);
      expect(own).toMatchObject({ status: 'PENDING' });
    });
  },
);
