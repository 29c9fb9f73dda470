import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createResultStore } from '../../shared/app.ts';
import type { TaskListQuery, TaskSummary } from '../../shared/results/index.ts';
import { withIndexKeys } from '../../shared/results/indexes.ts';
import type { ResultStore } from '../../shared/results/store.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import { TaskState } from '../../shared/task/states.ts';
import { useEmulator } from '../support/emulator.ts';
import { type ProvisionedStack, provisionStack } from '../support/stack.ts';

useEmulator();

const NOW = new Date('2026-06-01T12:00:00.000Z');
const NAMES = ['tests.paging.a', 'tests.paging.b', 'tests.paging.c'];
const STATES = Object.values(TaskState);
const ROWS = 240;

interface Row {
  taskId: string;
  taskName: string;
  status: TaskState;
  dateCreated: string;
  expiresAt: number;
}

/**
 * Mixed states and names, newest first by index; the newest 40 PENDING rows (and some others) are
 * past their expiry, so a listing must read through runs of rows its filter drops (what left
 * `tasks --state PENDING` on an empty page forever). Rows come in pairs sharing a creation instant.
 */
function rows(): Row[] {
  const out: Row[] = [];
  for (let i = 0; i < ROWS; i++) {
    const newestPending = i < 80 && i % 2 === 0;
    const status = newestPending ? TaskState.PENDING : (STATES[(i * 7) % STATES.length] as TaskState);
    const expired = newestPending || i % 11 === 0;
    out.push({
      taskId: `paging-${String(i).padStart(4, '0')}`,
      taskName: NAMES[(i * 5) % NAMES.length] as string,
      status,
      dateCreated: new Date(NOW.getTime() - 60_000 - Math.floor(i / 2) * 1000).toISOString(),
      expiresAt: Math.floor(NOW.getTime() / 1000) + (expired ? -60 : 86_400),
    });
  }
  return out;
}

let stack: ProvisionedStack;
let store: ResultStore;
const all = rows();

beforeAll(async () => {
  stack = await provisionStack();
  store = createResultStore({ config: stack.config, clients: stack.clients, registry: new TaskRegistry() });
  for (let i = 0; i < all.length; i += 25) {
    await stack.clients.dynamo.send(
      new BatchWriteCommand({
        RequestItems: {
          [store.table]: all.slice(i, i + 25).map((Item) => ({ PutRequest: { Item: withIndexKeys(Item) } })),
        },
      }),
    );
  }
});

/** Every page to the end, checking each page either shows rows or moves the cursor on. */
async function walk(query: TaskListQuery): Promise<TaskSummary[]> {
  const seen: TaskSummary[] = [];
  const cursors = new Set<string>();
  let cursor: string | undefined;
  for (let pages = 0; ; pages++) {
    // A walk that outlasts one page per row (plus one) is not ending.
    expect(pages).toBeLessThanOrEqual(ROWS + 1);
    const page = await store.list({ ...query, ...(cursor ? { cursor } : {}) }, NOW);
    expect(page.items.length).toBeLessThanOrEqual(query.limit ?? 50);
    seen.push(...page.items);
    if (!page.cursor) return seen;
    expect(cursors.has(page.cursor), `cursor repeated after ${seen.length} rows`).toBe(false);
    cursors.add(page.cursor);
    cursor = page.cursor;
  }
}

const filters: { label: string; query: Omit<TaskListQuery, 'limit'> }[] = [];
for (const states of [
  undefined,
  [TaskState.PENDING],
  [TaskState.PENDING, TaskState.SUCCESS],
  [TaskState.FAILURE],
]) {
  for (const taskName of [undefined, 'tests.paging.b']) {
    for (const since of [undefined, new Date(NOW.getTime() - 60_000 - 60_000)]) {
      const query = {
        ...(states ? { states } : {}),
        ...(taskName ? { taskName } : {}),
        ...(since ? { since } : {}),
      };
      filters.push({
        label: `state=${states?.join('+') ?? 'any'} name=${taskName ?? 'any'} since=${since ? 'yes' : 'no'}`,
        query,
      });
    }
  }
}

describe('task listings page to their end through the cursor', () => {
  for (const { label, query } of filters) {
    it(`${label}: limits 1, 3 and 7 each list exactly the matching rows, newest first, once`, async () => {
      const expected = all
        .filter(
          (r) =>
            r.expiresAt * 1000 > NOW.getTime() &&
            (!query.states || query.states.includes(r.status)) &&
            (!query.taskName || r.taskName === query.taskName) &&
            (!query.since || r.dateCreated >= query.since.toISOString()),
        )
        .map((r) => r.taskId)
        .sort();
      for (const limit of [1, 3, 7]) {
        const listed = await walk({ ...query, limit });
        const ids = listed.map((t) => t.taskId);
        expect(new Set(ids).size, `limit ${limit}: duplicates`).toBe(ids.length);
        expect([...ids].sort(), `limit ${limit}`).toEqual(expected);
        const times = listed.map((t) => t.dateCreated ?? '');
        expect(times, `limit ${limit}: newest first`).toEqual([...times].sort().reverse());
      }
    });
  }
});
