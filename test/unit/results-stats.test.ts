import { describe, expect, it } from 'vitest';
import { indexKeyOf, shardOf, withIndexKeys } from '../../shared/results/indexes.ts';
import {
  incrementsOf,
  mergeTallies,
  RUNTIME_BOUNDS_MS,
  runtimeBucket,
  windowOf,
} from '../../shared/results/stats.ts';
import { ResultStore } from '../../shared/results/store.ts';

const done = (taskName: string, status: string, dateDone: string, runtimeMs = 10) => ({
  taskId: `${taskName}-${dateDone}-${status}`,
  taskName,
  status: status as 'SUCCESS',
  dateStarted: new Date(Date.parse(dateDone) - runtimeMs).toISOString(),
  dateDone,
});

describe('stats counters', () => {
  it('adds one item per name and minute and per name and hour, however many outcomes a batch holds', () => {
    const batch = [
      ...Array.from({ length: 40 }, (_, i) =>
        done('a.b.c', 'SUCCESS', `2026-12-01T04:10:${String(i).padStart(2, '0')}.000Z`),
      ),
      done('a.b.c', 'FAILURE', '2026-12-01T04:11:00.000Z'),
      done('x.y.z', 'RETRY', '2026-12-01T04:10:00.000Z'),
      {
        taskId: 'running',
        taskName: 'a.b.c',
        status: 'STARTED' as const,
        dateStarted: '2026-12-01T04:10:00.000Z',
      },
    ];
    const increments = incrementsOf(batch);
    // a.b.c: minutes 04:10 and 04:11, hour 04; x.y.z: minute 04:10, hour 04. STARTED is not an outcome.
    expect(increments.map((i) => i.key).sort()).toEqual([
      'stats|h|a.b.c|2026-12-01T04:00:00.000Z',
      'stats|h|x.y.z|2026-12-01T04:00:00.000Z',
      'stats|m|a.b.c|2026-12-01T04:10:00.000Z',
      'stats|m|a.b.c|2026-12-01T04:11:00.000Z',
      'stats|m|x.y.z|2026-12-01T04:10:00.000Z',
    ]);
    const hour = increments.find((i) => i.key.startsWith('stats|h|a.b.c'));
    expect(Object.fromEntries(hour?.counts ?? [])).toEqual({
      SUCCESS: 40,
      FAILURE: 1,
      [`rt${runtimeBucket(10)}`]: 41,
    });
  });

  it('reads the failure rate and runtime percentiles from the counts', () => {
    const histogram = new Array(RUNTIME_BOUNDS_MS.length + 1).fill(0);
    histogram[runtimeBucket(8)] = 90; // ≤ 10 ms
    histogram[runtimeBucket(700)] = 10; // ≤ 1 s
    const w = windowOf(mergeTallies([{ states: { SUCCESS: 75, FAILURE: 25, RETRY: 3 }, histogram }]));
    expect(w).toMatchObject({ total: 103, failureRate: 0.25, runtimeMs: { p50: 10, p95: 1000 } });
    expect(windowOf(mergeTallies([])).failureRate).toBeNull();
  });

  it("never fails a batch's outcomes when its counters cannot be added", async () => {
    const errors: unknown[] = [];
    const dynamo = {
      async send(command: { constructor: { name: string } }) {
        if (command.constructor.name === 'TransactWriteCommand') return {};
        throw new Error('AccessDenied: UpdateItem');
      },
    };
    const store = new ResultStore({
      dynamo: dynamo as never,
      table: 'results',
      onStatsError: (error) => errors.push(error),
    });
    const outcomes = await store.complete([
      { record: done('a.b.c', 'SUCCESS', '2026-12-01T04:10:00.000Z'), heldBy: 'lease' },
    ]);
    expect(outcomes).toEqual([{ ok: true }]);
    expect(String(errors[0])).toContain('AccessDenied');
  });
});

describe('index keys', () => {
  it('puts a row under each index it belongs to, sparse where its attribute is missing', () => {
    const row = withIndexKeys({
      taskId: 't',
      status: 'FAILURE',
      taskName: 'a.b',
      dateCreated: '2026-01-01T00:00:00Z',
    });
    expect(row).toMatchObject({ lkAll: 'all#0', lkStatus: 'FAILURE#0', lkTaskName: 'a.b#0' });
    expect(row).not.toHaveProperty('lkDone');
    expect(row).not.toHaveProperty('lkPeriodicTask');
    expect(indexKeyOf('byDone', { ...row, dateDone: '2026-01-01T00:00:01Z' })).toBe('all#0');
  });

  it('spreads ids over shards evenly enough to take writes apart', () => {
    const counts = [0, 0, 0, 0];
    for (let i = 0; i < 4000; i++)
      counts[shardOf(`task-${i}`, 4)] = (counts[shardOf(`task-${i}`, 4)] ?? 0) + 1;
    for (const c of counts) expect(c).toBeGreaterThan(800);
  });
});
