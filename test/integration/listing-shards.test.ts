import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResultStore } from '../../shared/app.ts';
import { RESULT_INDEXES, withIndexKeys } from '../../shared/results/indexes.ts';
import type { TaskListQuery } from '../../shared/results/listing.ts';
import type { TaskResultRecord } from '../../shared/results/record.ts';
import type { ResultStore } from '../../shared/results/store.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import { TaskState } from '../../shared/task/states.ts';
import { useEmulator } from '../support/emulator.ts';
import { type ProvisionedStack, provisionStack } from '../support/stack.ts';

useEmulator();

/**
 * The shard count is a constant of `RESULT_INDEXES` (1 as shipped); a stack past ~500 tasks/s
 * raises it. Here it is raised for this file's process to 3 on `byCreated` and `byStatus`: rows
 * spread over three keys each, and a listing merges them, newest first, across pages.
 */
const SHARDS = 3;
const mutable = RESULT_INDEXES as unknown as Record<string, { shards: number }>;
const shipped = { byCreated: mutable.byCreated?.shards, byStatus: mutable.byStatus?.shards };
const BASE = Date.parse('2026-06-01T00:00:00.000Z');
const STATES = [TaskState.SUCCESS, TaskState.FAILURE, TaskState.PENDING];

const rows: TaskResultRecord[] = Array.from({ length: 90 }, (_, i) => ({
  taskId: `shard-${String(i).padStart(3, '0')}`,
  taskName: 'tests.shards.t',
  status: STATES[i % 3] as TaskState,
  // Pairs share an instant: the merge must not lose or repeat rows that tie.
  dateCreated: new Date(BASE + Math.floor(i / 2) * 1000).toISOString(),
}));

let stack: ProvisionedStack;
let store: ResultStore;

beforeAll(async () => {
  (mutable.byCreated as { shards: number }).shards = SHARDS;
  (mutable.byStatus as { shards: number }).shards = SHARDS;
  stack = await provisionStack();
  store = createResultStore({ config: stack.config, clients: stack.clients, registry: new TaskRegistry() });
  for (let i = 0; i < rows.length; i += 25) {
    await stack.clients.dynamo.send(
      new BatchWriteCommand({
        RequestItems: {
          [store.table]: rows.slice(i, i + 25).map((r) => ({ PutRequest: { Item: withIndexKeys(r) } })),
        },
      }),
    );
  }
});

afterAll(() => {
  (mutable.byCreated as { shards: number }).shards = shipped.byCreated ?? 1;
  (mutable.byStatus as { shards: number }).shards = shipped.byStatus ?? 1;
});

async function walk(query: TaskListQuery): Promise<{ ids: string[]; queriesPerPage: number[] }> {
  const ids: string[] = [];
  const queriesPerPage: number[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 100; pages++) {
    const before = stack.clients.requests.snapshot().Query ?? 0;
    const page = await store.list({ ...query, ...(cursor ? { cursor } : {}) }, new Date(BASE + 86_400_000));
    queriesPerPage.push((stack.clients.requests.snapshot().Query ?? 0) - before);
    ids.push(...page.items.map((item) => item.taskId));
    cursor = page.cursor;
    if (!cursor) return { ids, queriesPerPage };
  }
  throw new Error('the listing did not end');
}

const newestFirst = (keep: (r: TaskResultRecord) => boolean) =>
  rows
    .filter(keep)
    .sort(
      (a, b) => (b.dateCreated ?? '').localeCompare(a.dateCreated ?? '') || b.taskId.localeCompare(a.taskId),
    )
    .map((r) => r.taskId);

describe('sharded listing keys', () => {
  it('spreads the rows over the shards', () => {
    const keys = new Set(rows.map((r) => (withIndexKeys(r) as unknown as Record<string, unknown>).lkAll));
    expect([...keys].sort()).toEqual(['all#0', 'all#1', 'all#2']);
  });

  it('merges the shards newest first, each row once, one Query per shard a page', async () => {
    const { ids, queriesPerPage } = await walk({ limit: 7 });
    expect(new Set(ids).size).toBe(rows.length);
    // Ties (a pair's instant) may come in either order; the times must not go up.
    const times = ids.map((id) => rows.find((r) => r.taskId === id)?.dateCreated ?? '');
    expect(times).toEqual([...times].sort().reverse());
    expect(ids.slice().sort()).toEqual(newestFirst(() => true).sort());
    expect(queriesPerPage[0]).toBe(SHARDS);
  });

  it('merges a state filter over states × shards', async () => {
    const { ids } = await walk({ states: [TaskState.FAILURE, TaskState.PENDING], limit: 5 });
    const want = newestFirst((r) => r.status === TaskState.FAILURE || r.status === TaskState.PENDING);
    expect(ids.slice().sort()).toEqual(want.slice().sort());
    const times = ids.map((id) => rows.find((r) => r.taskId === id)?.dateCreated ?? '');
    expect(times).toEqual([...times].sort().reverse());
  });
});
