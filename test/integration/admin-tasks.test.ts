import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { withIndexKeys } from '../../shared/results/indexes.ts';
import type { TaskResultRecord } from '../../shared/results/record.ts';
import { TaskState } from '../../shared/task/states.ts';
import { type AdminApi, useAdminApi } from '../support/admin.ts';
import { defineDouble, drain } from '../support/drain.ts';

const api = useAdminApi();

defineDouble();

const BASE = Date.parse('2026-06-01T00:00:00.000Z');
const at = (ms: number) => new Date(ms).toISOString();
const SEEDED = 130;

/**
 * Seeded rows: creation one second apart (`seed-129` newest), finishing in the reverse order (so
 * a `dateDone` listing's order differs from a `dateCreated` one), two task names, a periodic task
 * on every fourth, FAILURE on every third and STARTED (not done) on every tenth from 7.
 */
function seeded(): TaskResultRecord[] {
  return Array.from({ length: SEEDED }, (_, i) => {
    const status = i % 10 === 7 ? TaskState.STARTED : i % 3 === 0 ? TaskState.FAILURE : TaskState.SUCCESS;
    return {
      taskId: `seed-${String(i).padStart(3, '0')}`,
      taskName: i % 2 ? 'tests.admin.odd' : 'tests.admin.even',
      status,
      args: JSON.stringify([i]),
      kwargs: '{}',
      dateCreated: at(BASE + i * 1000),
      dateStarted: at(BASE + i * 1000),
      ...(status === TaskState.STARTED ? {} : { dateDone: at(BASE + 3_600_000 + (SEEDED - i) * 1000) }),
      ...(i % 4 === 0 ? { periodicTask: 'nightly' } : {}),
      queue: 'default',
    };
  });
}

const rows = seeded();

async function seed(a: AdminApi, records: readonly TaskResultRecord[]): Promise<void> {
  const table = a.stack.config.resultsTable as string;
  for (let i = 0; i < records.length; i += 25) {
    await a.stack.clients.dynamo.send(
      new BatchWriteCommand({
        RequestItems: {
          [table]: records.slice(i, i + 25).map((r) => ({ PutRequest: { Item: withIndexKeys(r) } })),
        },
      }),
    );
  }
}

/** Every page of a listing, asserting each is at most `limit` long and the walk ends. */
async function walk(a: AdminApi, query: Record<string, string>, limit = 7): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | undefined;
  for (let pages = 0; pages < 200; pages++) {
    const res = await a.request('GET', '/api/tasks', {
      query: { ...query, limit: String(limit), ...(cursor ? { cursor } : {}) },
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.body.items.length).toBeLessThanOrEqual(limit);
    ids.push(...res.body.items.map((item: { taskId: string }) => item.taskId));
    cursor = res.body.cursor;
    if (!cursor) return ids;
  }
  throw new Error('the listing did not end');
}

function expected(
  keep: (r: TaskResultRecord) => boolean,
  by: 'dateCreated' | 'dateDone' = 'dateCreated',
): string[] {
  return rows
    .filter(keep)
    .sort((x, y) => (y[by] ?? '').localeCompare(x[by] ?? ''))
    .map((r) => r.taskId);
}

beforeAll(async () => {
  await seed(api(), rows);
});

describe('GET /api/tasks', () => {
  it('pages the whole table newest first, 50 a page over 3 pages, each page one DynamoDB request', async () => {
    const a = api();
    const ids: string[] = [];
    const sizes: number[] = [];
    let cursor: string | undefined;
    do {
      const before = a.stack.clients.requests.snapshot();
      const res = await a.request('GET', '/api/tasks', { query: cursor ? { cursor } : {} });
      const after = a.stack.clients.requests.snapshot();
      expect(res.status).toBe(200);
      expect((after.Query ?? 0) - (before.Query ?? 0)).toBe(1);
      // Nothing else of DynamoDB (the tokens' secret is Secrets Manager's, read once and cached).
      const changed = Object.keys(after).filter((op) => after[op] !== before[op] && op !== 'GetSecretValue');
      expect(changed).toEqual(['Query']);
      sizes.push(res.body.items.length);
      ids.push(...res.body.items.map((item: { taskId: string }) => item.taskId));
      cursor = res.body.cursor;
    } while (cursor);
    expect(sizes).toEqual([50, 50, 30]);
    expect(ids).toEqual(expected(() => true));
  });

  it('shows a summary: no index keys, no large fields', async () => {
    const res = await api().request('GET', '/api/tasks', { query: { limit: '1' } });
    const [item] = res.body.items;
    expect(item).toMatchObject({ taskId: 'seed-129', taskName: 'tests.admin.odd', status: 'FAILURE' });
    expect(Object.keys(item).filter((k) => k.startsWith('lk') || k === 'args')).toEqual([]);
  });

  const since = at(BASE + 20_000);
  const until = at(BASE + 100_000);
  const doneSince = at(BASE + 3_600_000 + 30_000);
  const doneUntil = at(BASE + 3_600_000 + 90_000);
  const inCreated = (r: TaskResultRecord) => (r.dateCreated ?? '') >= since && (r.dateCreated ?? '') < until;
  const inDone = (r: TaskResultRecord) =>
    r.dateDone !== undefined && r.dateDone >= doneSince && r.dateDone < doneUntil;
  const cases: [
    string,
    Record<string, string>,
    (r: TaskResultRecord) => boolean,
    ('dateCreated' | 'dateDone')?,
  ][] = [
    ['one state', { state: 'FAILURE' }, (r) => r.status === 'FAILURE'],
    ['two states', { state: 'FAILURE,STARTED' }, (r) => r.status === 'FAILURE' || r.status === 'STARTED'],
    ['task name', { name: 'tests.admin.odd' }, (r) => r.taskName === 'tests.admin.odd'],
    ['periodic task', { periodicTask: 'nightly' }, (r) => r.periodicTask === 'nightly'],
    ['created range', { since, until }, inCreated],
    ['created since', { since }, (r) => (r.dateCreated ?? '') >= since],
    ['created until', { until }, (r) => (r.dateCreated ?? '') < until],
    ['done range', { timeField: 'dateDone', since: doneSince, until: doneUntil }, inDone, 'dateDone'],
    [
      'name and state',
      { name: 'tests.admin.even', state: 'FAILURE' },
      (r) => r.taskName === 'tests.admin.even' && r.status === 'FAILURE',
    ],
    [
      'periodic task, state and range',
      { periodicTask: 'nightly', state: 'SUCCESS', since, until },
      (r) => r.periodicTask === 'nightly' && r.status === 'SUCCESS' && inCreated(r),
    ],
    ['state and range', { state: 'SUCCESS', since, until }, (r) => r.status === 'SUCCESS' && inCreated(r)],
    [
      'name, state and done range',
      {
        name: 'tests.admin.odd',
        state: 'FAILURE',
        timeField: 'dateDone',
        since: doneSince,
        until: doneUntil,
      },
      (r) => r.taskName === 'tests.admin.odd' && r.status === 'FAILURE' && inDone(r),
      'dateDone',
    ],
  ];
  it.each(cases)('filters by %s, page after page', async (_name, query, keep, by) => {
    const want = expected(keep, by);
    expect(want.length).toBeGreaterThan(7);
    expect(await walk(api(), query)).toEqual(want);
  });

  it.each([
    ['state', { state: 'DONE#1' }],
    ['since', { since: 'yesterday' }],
    ['timeField', { timeField: 'dateStarted' }],
    ['cursor', { cursor: 'garbage' }],
    ['since', { since: at(BASE + 1000), until: at(BASE) }],
    ['limit', { limit: '0' }],
  ])('refuses a bad %s with 400 naming it', async (field, query) => {
    const res = await api().request('GET', '/api/tasks', { query });
    expect(res.status).toBe(400);
    expect(res.body.error.field).toContain(field);
  });
});

describe('OpenAPI', () => {
  it('documents every task, queue and stats route with its parameters', async () => {
    const res = await api().request('GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    const paths = Object.keys(res.body.paths);
    for (const path of [
      '/api/tasks',
      '/api/tasks/{id}',
      '/api/tasks/{id}/revoke',
      '/api/tasks/{id}/retry',
      '/api/tasks/replay',
      '/api/queues',
      '/api/queues/{name}/purge',
      '/api/queues/{name}/dlq',
      '/api/queues/{name}/dlq/redrive',
      '/api/stats',
    ]) {
      expect(paths).toContain(path);
    }
    expect(JSON.stringify(res.body.paths['/api/tasks'].get)).toContain('timeField');
  });
});

describe('GET /api/tasks/{id}', () => {
  it('gives one task with its arguments, and 404 for an unknown id', async () => {
    const res = await api().request('GET', '/api/tasks/seed-003');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ taskId: 'seed-003', status: 'FAILURE', args: [3], kwargs: {} });
    expect(Object.keys(res.body).filter((k) => k.startsWith('lk'))).toEqual([]);
    expect((await api().request('GET', '/api/tasks/no-such-task')).status).toBe(404);
  });
});

describe('applying, retrying and replaying', () => {
  it('applies a task by name; the worker runs it; its row shows who sent it', async () => {
    const a = api();
    const res = await a.request('POST', '/api/tasks', { body: { task: 'tests.admin.double', args: [21] } });
    expect(res.status).toBe(202);
    expect(await drain(a)).toBe(1);
    const got = await a.request('GET', `/api/tasks/${res.body.taskId}`);
    expect(got.body).toMatchObject({ status: 'SUCCESS', result: 42, origin: 'admin:admin' });
    const unknown = await a.request('POST', '/api/tasks', { body: { task: 'tests.admin.nope' } });
    expect(unknown.status).toBe(400);
    expect(unknown.body.error.field).toBe('task');
    const far = await a.request('POST', '/api/tasks', {
      body: { task: 'tests.admin.double', countdown: 1e300 },
    });
    expect(far.status).toBe(400);
    expect(far.body.error.field).toContain('countdown');
    // Arguments the task's schema refuses are named as the body names them, not as a batch would.
    const badArgs = await a.request('POST', '/api/tasks', {
      body: { task: 'apps.demo.tasks.add', args: ['x', 2] },
    });
    expect(badArgs.status).toBe(400);
    expect(badArgs.body.error.field).toBe('args.0');
    expect(await drain(a)).toBe(0);
  });

  it('bulk-replays the FAILUREs of a name: dry run, confirm, count sent; they run again; not twice', async () => {
    const a = api();
    const failed = [-1, -2, -3].map((x, i) => ({
      taskId: `replay-${i}`,
      taskName: 'tests.admin.double',
      status: TaskState.FAILURE,
      args: JSON.stringify([x]),
      kwargs: '{}',
      dateCreated: at(BASE + 500_000 + i),
      dateDone: at(BASE + 500_000 + i),
      queue: 'default',
    }));
    // One outside the time range: the filter must leave it.
    failed[2] = {
      ...(failed[2] as TaskResultRecord),
      dateCreated: at(BASE - 1),
      dateDone: at(BASE - 1),
    } as (typeof failed)[number];
    await seed(a, failed);
    const filter = { name: 'tests.admin.double', since: at(BASE), until: at(BASE + 600_000) };
    const dry = await a.request('POST', '/api/tasks/replay', { body: { ...filter, dryRun: true } });
    expect((await a.request('POST', '/api/tasks/replay', { body: filter })).status).toBe(400);
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ dryRun: true, count: 2, more: false });

    const wrong = await a.request('POST', '/api/tasks/replay', {
      body: { ...filter, confirm: 'not-the-token' },
    });
    expect(wrong.status).toBe(409);
    expect(
      (await a.request('POST', '/api/tasks/replay', { body: { ...filter, dryRun: true } })).body.count,
    ).toBe(2);

    const done = await a.request('POST', '/api/tasks/replay', {
      body: { ...filter, confirm: dry.body.confirm },
    });
    expect(done.status).toBe(202);
    expect(done.body).toMatchObject({ dryRun: false, sent: 2, skipped: [] });
    expect(await drain(a)).toBe(2);
    for (const { taskId, newTaskId } of done.body.resent as { taskId: string; newTaskId: string }[]) {
      const again = await a.request('GET', `/api/tasks/${newTaskId}`);
      expect(again.body).toMatchObject({ taskName: 'tests.admin.double', status: 'FAILURE', retries: 0 });
      expect(again.body.args).toEqual((await a.request('GET', `/api/tasks/${taskId}`)).body.args);
      expect((await a.request('GET', `/api/tasks/${taskId}`)).body.replayedAs).toBe(newTaskId);
    }
    // The re-sent originals are not counted again (their new runs failed too, after the range).
    const after = await a.request('POST', '/api/tasks/replay', { body: { ...filter, dryRun: true } });
    expect(after.body.count).toBe(0);
    const stale = await a.request('POST', '/api/tasks/replay', {
      body: { ...filter, confirm: dry.body.confirm },
    });
    expect(stale.status).toBe(409);
  });

  it('retries one FAILURE as a new task with its arguments, once; refuses other states', async () => {
    const a = api();
    await seed(a, [
      {
        taskId: 'retry-me',
        taskName: 'tests.admin.double',
        status: TaskState.FAILURE,
        args: '[5]',
        kwargs: '{}',
        dateCreated: at(BASE),
        dateDone: at(BASE),
        queue: 'default',
      },
    ]);
    const res = await a.request('POST', '/api/tasks/retry-me/retry');
    expect(res.status).toBe(202);
    expect(res.body.taskId).toBe('retry-me');
    expect(res.body.newTaskId).not.toBe('retry-me');
    expect((await a.request('POST', '/api/tasks/retry-me/retry')).status).toBe(409);
    expect((await a.request('POST', '/api/tasks/seed-001/retry')).status).toBe(409);
    expect((await a.request('POST', '/api/tasks/no-such-task/retry')).status).toBe(404);
    expect(await drain(a)).toBe(1);
    expect((await a.request('GET', `/api/tasks/${res.body.newTaskId}`)).body).toMatchObject({
      status: 'SUCCESS',
      result: 10,
    });
  });

  it('revokes a task not yet run, and says 409 for a finished one', async () => {
    const a = api();
    const sent = await a.request('POST', '/api/tasks', { body: { task: 'tests.admin.double', args: [1] } });
    const revoked = await a.request('POST', `/api/tasks/${sent.body.taskId}/revoke`);
    expect(revoked.status).toBe(200);
    expect(revoked.body.status).toBe('REVOKED');
    await drain(a);
    expect((await a.request('GET', `/api/tasks/${sent.body.taskId}`)).body.status).toBe('REVOKED');
    expect((await a.request('POST', '/api/tasks/seed-000/revoke')).status).toBe(409);
  });
});
