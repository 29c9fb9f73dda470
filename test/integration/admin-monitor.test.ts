import { describe, expect, it } from 'vitest';
import { queueOverview, WORKERS_ENV, workersFromEnv } from '../../shared/ops/workers.ts';
import { useAdminApi } from '../support/admin.ts';
import { defineDouble, drain } from '../support/drain.ts';

/** Flower's Monitor and Broker over the admin API: stats from the worker's counters, the queues view. */
const api = useAdminApi();
defineDouble();

describe('GET /api/stats', () => {
  it("counts the worker's outcomes per name and overall, with the failure rate and runtime percentiles", async () => {
    const a = api();
    const name = 'tests.admin.double';
    const before = await a.request('GET', '/api/stats', { query: { name } });
    const base = before.body.tasks[0].hour.states;
    for (const x of [1, 2, 3, -4]) {
      expect((await a.request('POST', '/api/tasks', { body: { task: name, args: [x] } })).status).toBe(202);
    }
    await drain(a);
    const res = await a.request('GET', '/api/stats', { query: { name: `${name},tests.admin.idle` } });
    expect(res.status).toBe(200);
    const [double, idle] = res.body.tasks;
    expect(double.name).toBe(name);
    expect(double.hour.states.SUCCESS - base.SUCCESS).toBe(3);
    expect(double.hour.states.FAILURE - base.FAILURE).toBe(1);
    expect(double.day.states).toEqual(double.hour.states);
    const { SUCCESS, FAILURE } = double.hour.states;
    expect(double.hour.failureRate).toBeCloseTo(FAILURE / (SUCCESS + FAILURE));
    expect(double.hour.runtimeMs.p50).toBeGreaterThan(0);
    expect(double.hour.runtimeMs.p95).toBeGreaterThanOrEqual(double.hour.runtimeMs.p50);
    expect(idle.hour).toMatchObject({ total: 0, failureRate: null, runtimeMs: { p50: null, p95: null } });
    expect(res.body.overall.hour.states).toEqual(double.hour.states);
    // 85 keys a name, 100 to a request.
    expect(res.body.requests).toBe(2);
    const all = await a.request('GET', '/api/stats');
    expect(all.body.tasks.map((t: { name: string }) => t.name)).toContain(name);
    expect((await a.request('GET', '/api/stats', { query: { name: 'bad name!' } })).status).toBe(400);
  });
});

describe('queues', () => {
  it('shows each route queue with its counts and DLQ; purges only with its name; peeks and redrives the DLQ', async () => {
    const a = api();
    for (const x of [1, 2])
      await a.request('POST', '/api/tasks', { body: { task: 'tests.admin.double', args: [x] } });
    const res = await a.request('GET', '/api/queues');
    expect(res.status).toBe(200);
    const def = res.body.items.find((q: { queue: string }) => q.queue === 'default');
    expect(def).toMatchObject({ visible: 2, inFlight: 0, oldestAgeSeconds: null });
    expect(def.dlq).toMatchObject({ visible: 0 });

    const wrong = await a.request('POST', '/api/queues/default/purge', { body: { confirm: 'heavy' } });
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.field).toBe('confirm');
    const purged = await a.request('POST', '/api/queues/default/purge', { body: { confirm: 'default' } });
    expect(purged.status).toBe(200);
    const now = (await a.request('GET', '/api/queues')).body.items.find(
      (q: { queue: string }) => q.queue === 'default',
    );
    expect(now.visible).toBe(0);

    const peek = await a.request('GET', '/api/queues/default/dlq', { query: { limit: '5' } });
    expect(peek.status).toBe(200);
    expect(peek.body.messages).toEqual([]);
    const redrive = await a.request('POST', '/api/queues/default/dlq/redrive', { body: {} });
    expect(redrive.status).toBe(200);
    expect((await a.request('GET', '/api/queues/nope/dlq')).status).toBe(404);
    expect((await a.request('POST', '/api/queues/nope/purge', { body: { confirm: 'nope' } })).status).toBe(
      404,
    );
  });

  it("shows each queue's worker and oldest age where the door knows them", async () => {
    const a = api();
    const workers = workersFromEnv({
      [WORKERS_ENV]: JSON.stringify({
        default: { functionName: 'worker-default', batchSize: 100, maxConcurrency: 10, timeoutSeconds: 60 },
      }),
    });
    const items = await queueOverview({
      ...a.ctx,
      ...(workers ? { workers } : {}),
      oldestAgeSeconds: async () => 42,
    });
    expect(items.find((q) => q.queue === 'default')).toMatchObject({
      worker: { functionName: 'worker-default', batchSize: 100, maxConcurrency: 10, timeoutSeconds: 60 },
      oldestAgeSeconds: 42,
    });
    expect(workersFromEnv({ [WORKERS_ENV]: 'not json' })).toBeUndefined();
  });
});
