import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { withIndexKeys } from '../../shared/results/indexes.ts';
import type { TaskResultRecord } from '../../shared/results/record.ts';
import { TaskState } from '../../shared/task/states.ts';
import { useCliCloud } from '../support/cli-cloud.ts';
import { cliInProcess } from '../support/cli-in-process.ts';
import { useEmulator } from '../support/emulator.ts';

/**
 * Issue #9, must-show 2: `tasks` as a script uses it. Every filter combination walked to its end
 * through `--cursor`, and 1,000 tasks of `--json` read whole through a pipe.
 */

const { endpoint } = useEmulator();
const local = useCliCloud(endpoint);

/** A results-table row as a worker writes it, with the fields the listings read. */
type Row = Required<Pick<TaskResultRecord, 'taskId' | 'taskName' | 'status' | 'dateCreated' | 'expiresAt'>> &
  Pick<TaskResultRecord, 'result'>;

async function writeRows(rows: readonly Row[]): Promise<void> {
  const { dynamo } = local.cloud.clients;
  const table = local.cloud.config.resultsTable as string;
  for (let i = 0; i < rows.length; i += 25) {
    await dynamo.send(
      new BatchWriteCommand({
        RequestItems: {
          [table]: rows.slice(i, i + 25).map((Item) => ({ PutRequest: { Item: withIndexKeys(Item) } })),
        },
      }),
    );
  }
}

const NAMES = ['tests.walk.a', 'tests.walk.b'];
const STATES = Object.values(TaskState);
const BASE = Date.now() - 3_600_000;
/** 41 rows, a second apart in pairs, newest first; every fifth one already expired. */
const walkRows: Row[] = Array.from({ length: 41 }, (_, i) => ({
  taskId: `walk-${String(i).padStart(3, '0')}`,
  taskName: NAMES[i % 3 === 0 ? 1 : 0] as string,
  status: STATES[(i * 5) % STATES.length] as TaskState,
  dateCreated: new Date(BASE - Math.floor(i / 2) * 1000).toISOString(),
  expiresAt: Math.floor(Date.now() / 1000) + (i % 5 === 4 ? -60 : 86_400),
}));

const SINCE = new Date(BASE - 15_000).toISOString();
const UNTIL = new Date(BASE - 4_000).toISOString();

/** `tasks` in this process (the same program a user runs), against the suite's local cloud. */
async function tasksPage(args: string[]): Promise<{ items: { taskId: string }[]; cursor?: string }> {
  process.env.CELERITY_STATE_FILE = local.stateFile;
  const result = await cliInProcess(['tasks', ...args, '--json']);
  expect(result.code, `tasks ${args.join(' ')}: ${result.stderr}`).toBe(0);
  return JSON.parse(result.stdout);
}

beforeAll(async () => {
  await writeRows(walkRows);
});

describe('celerity tasks, as scripts use it', () => {
  const states = [undefined, 'PENDING', 'SUCCESS,FAILURE', 'revoked'];
  const names = [undefined, 'tests.walk.a'];
  const windows: [string | undefined, string | undefined][] = [
    [undefined, undefined],
    [SINCE, undefined],
    [undefined, UNTIL],
    [SINCE, UNTIL],
  ];
  it('walks every combination of --state, --name, --since and --until to its end with --limit 3', async () => {
    let combinations = 0;
    for (const state of states) {
      for (const name of names) {
        for (const [since, until] of windows) {
          const filters = [
            ...(state ? ['--state', state] : []),
            ...(name ? ['--name', name] : []),
            ...(since ? ['--since', since] : []),
            ...(until ? ['--until', until] : []),
          ];
          const wanted = state?.toUpperCase().split(',');
          const expected = walkRows
            .filter(
              (r) =>
                r.expiresAt * 1000 > Date.now() &&
                (!wanted || wanted.includes(r.status)) &&
                (!name || r.taskName === name) &&
                (!since || r.dateCreated >= since) &&
                (!until || r.dateCreated < until),
            )
            .map((r) => r.taskId)
            .sort();
          const seen: string[] = [];
          const cursors = new Set<string>();
          let cursor: string | undefined;
          for (;;) {
            const page = await tasksPage([
              ...filters,
              '--limit',
              '3',
              ...(cursor ? ['--cursor', cursor] : []),
            ]);
            expect(page.items.length).toBeLessThanOrEqual(3);
            seen.push(...page.items.map((t) => t.taskId));
            if (!page.cursor) break;
            expect(cursors.has(page.cursor), `${filters.join(' ')}: cursor repeated`).toBe(false);
            expect(cursors.size, `${filters.join(' ')}: more pages than rows`).toBeLessThanOrEqual(
              walkRows.length,
            );
            cursors.add(page.cursor);
            cursor = page.cursor;
          }
          if (filters.length === 0) expect(expected).toHaveLength(33);
          expect(new Set(seen).size, `${filters.join(' ')}: duplicates`).toBe(seen.length);
          expect([...seen].sort(), filters.join(' ') || 'no filter').toEqual(expected);
          combinations++;
        }
      }
    }
    expect(combinations).toBe(32);
  });

  it('pipes `tasks --json` of 1,000 tasks through a child process stdout, whole', async () => {
    const now = Date.now();
    await writeRows(
      Array.from({ length: 1000 }, (_, i) => ({
        taskId: `piped-${String(i).padStart(4, '0')}`,
        taskName: 'tests.pipe.row',
        status: TaskState.SUCCESS,
        dateCreated: new Date(now - 60_000 - i * 10).toISOString(),
        expiresAt: Math.floor(now / 1000) + 86_400,
        result: JSON.stringify({ row: i, padding: 'x'.repeat(40) }),
      })),
    );
    const piped = await local.cli(
      ['tasks', '--name', 'tests.pipe.row', '--limit', '1000', '--json'],
      {},
      { throughPipe: true },
    );
    expect(piped.code, piped.stderr).toBe(0);
    expect(piped.stdout.length).toBeGreaterThan(64 * 1024);
    const ids = (piped.json().items as { taskId: string }[]).map((t) => t.taskId);
    expect(ids).toHaveLength(1000);
    expect(new Set(ids).size).toBe(1000);
    expect(ids.every((id) => id.startsWith('piped-'))).toBe(true);
    expect(piped.json().cursor).toBeUndefined();
  });
});

describe('a far eta, waiting and files, in words a user can act on (issue #9 findings 4 and 7)', () => {
  it('result shows a far-eta task as scheduled, inspect queues counts it, revoke deletes its schedule', async () => {
    const eta = new Date(Date.now() + 2 * 86_400_000).toISOString().replace(/\.\d+Z$/, 'Z');
    const queue = Object.keys(local.cloud.config.queues)[0] as string;
    const sent = await local.cli([
      'call',
      'apps.demo.tasks.add',
      '--args',
      '[1,2]',
      '--eta',
      eta,
      '--queue',
      queue,
      '--task-id',
      'far-cli-1',
      '--json',
    ]);
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.json()).toMatchObject({ taskId: 'far-cli-1', via: 'scheduler' });

    const [human, json, depths] = await Promise.all([
      local.cli(['result', 'far-cli-1']),
      local.cli(['result', 'far-cli-1', '--json']),
      local.cli(['inspect', 'queues', '--json']),
    ]);
    expect(human.code, human.stderr).toBe(0);
    expect(human.stdout).toMatch(/state\s+PENDING \(scheduled, not sent yet\)/);
    expect(human.stdout).toContain(
      `scheduled  for ${eta.replace('T', ' ')} by one-time schedule celerity-far-cli-1-r0 (queue ${queue})`,
    );
    expect(json.json()).toMatchObject({
      status: 'PENDING',
      scheduled: { schedule: 'celerity-far-cli-1-r0', eta: eta.replace('Z', '.000Z') },
    });
    const row = (depths.json().queues as { queue: string; scheduled: number }[]).find(
      (q) => q.queue === queue,
    );
    expect(row?.scheduled).toBe(1);
    const table = await local.cli(['inspect', 'queues']);
    expect(table.stdout).toMatch(/QUEUE\s+WAITING\s+IN FLIGHT\s+DELAYED\s+SCHEDULED\s+DLQ/);

    const waited = await local.cli(['result', 'far-cli-1', '--wait', '--timeout', '1']);
    expect(waited.code).toBe(1);
    expect(waited.stderr).toContain(
      `celerity: waiting up to 1 s for task far-cli-1: PENDING, its next send scheduled for ${eta.replace('T', ' ')}`,
    );
    expect(waited.stderr).toContain('celerity: gave up after 1 s waiting for task far-cli-1');

    const revoked = await local.cli(['revoke', 'far-cli-1']);
    expect(revoked.code, revoked.stderr).toBe(0);
    expect(revoked.stdout).toBe('revoked far-cli-1 (deleted its schedule celerity-far-cli-1-r0)\n');
    const [after, queuesAfter] = await Promise.all([
      local.cli(['result', 'far-cli-1', '--json']),
      local.cli(['inspect', 'queues', '--json']),
    ]);
    expect(after.json()).toMatchObject({ status: 'REVOKED' });
    expect(after.json().scheduled).toBeUndefined();
    expect(
      (queuesAfter.json().queues as { queue: string; scheduled: number }[]).find((q) => q.queue === queue)
        ?.scheduled,
    ).toBe(0);
  });

  it('result --wait on an unknown id says what it waits for, then gives up with exit 1', async () => {
    const waited = await local.cli(['result', 'no-such-id', '--wait', '--timeout', '1']);
    expect(waited.code).toBe(1);
    expect(waited.stdout).toBe('');
    expect(waited.stderr.split('\n').filter(Boolean)).toEqual([
      'celerity: waiting up to 1 s for task no-such-id: no row yet and no schedule holds it: queued but not picked up by a worker, never sent, or expired',
      'celerity: gave up after 1 s waiting for task no-such-id: no row yet and no schedule holds it: queued but not picked up by a worker, never sent, or expired (--timeout N waits longer; 0 without end)',
    ]);
  });

  it('--from-file names the line of a call the task refuses, and sends nothing', async () => {
    const file = join(local.dir, 'refused.jsonl');
    // 150 good calls first: more than one chunk of 100, which used to go before line 152 was read.
    const good = Array.from({ length: 150 }, (_, i) => JSON.stringify({ args: [i, 2] }));
    writeFileSync(file, `${good.join('\n')}\n\n${JSON.stringify({ args: ['two', 3] })}\n`);
    const array = join(local.dir, 'refused.json');
    writeFileSync(array, `[\n  {"args": [1, 2]},\n  {"args": [1]}\n]\n`);
    const [lines, elements] = await Promise.all([
      local.cli(['call', 'apps.demo.tasks.add', '--from-file', file, '--countdown', '900']),
      local.cli(['call', 'apps.demo.tasks.add', '--from-file', array]),
    ]);
    expect(lines.code).toBe(2);
    expect(lines.stderr).toContain(`--from-file ${file} line 152: --args[0]: Invalid input: expected number`);
    expect(lines.stderr).toContain('(nothing was sent)');
    const depths = (await local.cli(['inspect', 'queues', '--json'])).json().queues as { delayed: number }[];
    expect(depths.map((q) => q.delayed)).toEqual(depths.map(() => 0));
    expect(elements.code).toBe(2);
    expect(elements.stderr).toContain(`--from-file ${array} line 3 (item 1): `);
    const listed = await local.cli(['tasks', '--name', 'apps.demo.tasks.add', '--json']);
    expect(listed.json().items).toEqual([]);
  });

  it('beat add of a taken name points to beat update, which changes only the fields given', async () => {
    const add = [
      'beat',
      'add',
      '--name',
      'nightly report',
      '--task',
      'apps.demo.tasks.noop',
      '--crontab',
      '0 3 * * *',
    ];
    const first = await local.cli([...add, '--expires', '2031-01-01T00:00:00Z', '--description', 'first']);
    expect(first.code, first.stderr).toBe(0);
    const again = await local.cli(add);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain(
      'a periodic task named "nightly report" already exists: change it with `celerity beat update \'nightly report\'`',
    );
    const updated = await local.cli([
      'beat',
      'update',
      'nightly report',
      '--every',
      '10',
      '--period',
      'minutes',
      '--clear',
      'expires',
      '--json',
    ]);
    expect(updated.code, updated.stderr).toBe(0);
    expect(updated.json()).toMatchObject({
      name: 'nightly report',
      task: 'apps.demo.tasks.noop',
      description: 'first',
      interval: { every: 10, period: 'minutes' },
    });
    expect(updated.json().expires).toBeUndefined();
    expect(updated.json().crontab).toBeUndefined();
    const missing = await local.cli(['beat', 'update', 'no such task', '--description', 'x']);
    expect(missing.code).toBe(3);
  });
});
