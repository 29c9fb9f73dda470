import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createResultStore } from '../../shared/app.ts';
import { createAwsClients } from '../../shared/aws/index.ts';
import { scheduleName } from '../../shared/beat/index.ts';
import { resolveConfig } from '../../shared/config/index.ts';
import type { ResultStore } from '../../shared/results/index.ts';
import { runCli } from '../support/cli-runner.ts';
import { useEmulator } from '../support/emulator.ts';

const { endpoint } = useEmulator();

const ROOT = join(import.meta.dirname, '../..');
/** The bar: every run starts within 2 s of its due time. */
const ON_TIME_MS = 2_000;

let dir: string;
let stateFile: string;
let dev: ChildProcess;
let output = '';
let results: ResultStore;

const cli = (...args: string[]) => runCli(stateFile, args);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until<T>(what: string, probe: () => T | undefined | Promise<T | undefined>, ms: number) {
  const end = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined) return value;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}; npm run dev said:\n${output}`);
    await sleep(250);
  }
}

interface Fire {
  schedule: string;
  executionId: string;
  scheduledTime: string;
}

/** The scheduler clock's record of what it fired, from the log file `celerity logs beat` reads. */
function fires(periodicTask: string): Fire[] {
  const file = join(dir, 'logs', 'beat.log');
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Fire & { message: string })
    .filter((entry) => entry.message === 'schedule fired' && entry.schedule === scheduleName(periodicTask));
}

/** Each run a fire stands for (a sub-minute interval's trigger stands for several), and how late it started. */
async function runsOf(fire: Fire, expansion?: { everySeconds: number; count: number }) {
  const due = Date.parse(fire.scheduledTime);
  const parts = expansion
    ? Array.from({ length: expansion.count }, (_, i) => ({
        id: `${fire.executionId}-${i}`,
        due: due + i * expansion.everySeconds * 1000,
      }))
    : [{ id: fire.executionId, due }];
  return Promise.all(
    parts.map(async ({ id, due: at }) => {
      const record = await results.get(id);
      const started = record?.dateStarted ? Date.parse(record.dateStarted) : Number.NaN;
      return { id, due: at, status: record?.status, lateMs: started - at };
    }),
  );
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'celerity-e2e-'));
  stateFile = join(dir, 'local.json');
  // `npm run dev`, as a user starts it, against the suite's emulator.
  // One process (tsx as a loader, not its wrapper), so its exit is the local cloud's own.
  dev = spawn(process.execPath, ['--import', 'tsx', 'localstack/dev/dev.ts'], {
    cwd: ROOT,
    env: { ...process.env, AWS_ENDPOINT_URL: endpoint, CELERITY_STATE_FILE: stateFile, LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  dev.stdout?.on('data', (d) => {
    output += d;
  });
  dev.stderr?.on('data', (d) => {
    output += d;
  });
  await until(
    'the local cloud to be ready',
    () => (output.includes('demo tasks:') ? true : undefined),
    120_000,
  );
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as { environment: Record<string, string> };
  results = createResultStore({
    config: resolveConfig({}, state.environment),
    clients: createAwsClients({ endpoint }),
  });
}, 150_000);

afterAll(async () => {
  if (dev && dev.exitCode === null) {
    const exited = new Promise((resolve) => dev.once('exit', resolve));
    dev.kill('SIGINT');
    await exited;
  }
  expect(dev.exitCode).toBe(0);
  expect(existsSync(stateFile)).toBe(false); // a clean shutdown removes it
  rmSync(dir, { recursive: true, force: true });
}, 60_000);

describe('Beat end to end: npm run dev, the celerity CLI, the scheduler clock and the workers', () => {
  it('sets up the defaults, runs a 10 s interval, a crontab and a clocked task on time, and stops a disabled one', async () => {
    const setup = await cli('beat', 'setup', '--json');
    expect(setup.code, setup.stderr).toBe(0);
    const listed = await cli('beat', 'list', '--json');
    const names = (listed.json().items as { name: string }[]).map((row) => row.name);
    expect(names).toEqual(
      expect.arrayContaining(['Send Appointment Reminders', 'Cleanup Old Notifications']),
    );

    // A crontab for the next whole minute at least 20 s away, in UTC.
    const due = new Date(Math.ceil((Date.now() + 20_000) / 60_000) * 60_000);
    const clockedAt = new Date(Math.ceil((Date.now() + 25_000) / 1000) * 1000);
    const added = await Promise.all([
      cli(
        'beat',
        'add',
        '--name',
        'Every 10 s',
        '--task',
        'apps.demo.tasks.add',
        '--args',
        '[2, 2]',
        '--every',
        '10',
        '--period',
        'seconds',
      ),
      cli(
        'beat',
        'add',
        '--name',
        'Next minute',
        '--task',
        'apps.demo.tasks.add',
        '--args',
        '[3, 3]',
        '--crontab',
        `${due.getUTCMinutes()} ${due.getUTCHours()} * * *`,
        '--timezone',
        'UTC',
      ),
      cli(
        'beat',
        'add',
        '--name',
        'Once',
        '--task',
        'apps.demo.tasks.add',
        '--args',
        '[4, 4]',
        '--clocked',
        clockedAt.toISOString(),
      ),
    ]);
    for (const run of added) expect(run.code, run.stdout + run.stderr).toBe(0);

    // The interval's first trigger is on the whole minute after "written + 10 s": within ~80 s.
    const intervalFires = await until(
      'two triggers of the 10 s interval',
      () => {
        const found = fires('Every 10 s');
        return found.length >= 2 ? found : undefined;
      },
      150_000,
    );
    const cronFire = await until('the crontab to fire', () => fires('Next minute')[0], 60_000);
    const onceFires = await until(
      'the clocked task to fire',
      () => {
        const found = fires('Once');
        return found.length ? found : undefined;
      },
      60_000,
    );

    expect(Date.parse(cronFire.scheduledTime)).toBe(due.getTime());
    expect(Date.parse(onceFires[0]?.scheduledTime as string)).toBe(clockedAt.getTime());
    const expansion = { everySeconds: 10, count: 6 };
    const firstTrigger = intervalFires[0] as Fire;
    // Let the first trigger's six runs (the last 50 s after it), the crontab's and the clocked one finish.
    const checked = await until(
      'every checked run to finish',
      async () => {
        const runs = [
          ...(await runsOf(firstTrigger, expansion)),
          ...(await runsOf(cronFire)),
          ...(await runsOf(onceFires[0] as Fire)),
        ];
        return runs.every((r) => r.status === 'SUCCESS') ? runs : undefined;
      },
      90_000,
    );
    for (const run of checked) {
      expect(run.status, run.id).toBe('SUCCESS');
      expect(run.lateMs, `${run.id} started ${run.lateMs} ms after due`).toBeGreaterThan(-1_000);
      expect(run.lateMs, `${run.id} started ${run.lateMs} ms after due`).toBeLessThanOrEqual(ON_TIME_MS);
    }
    const intervalGaps = checked.slice(1, 6).map((run, i) => run.due - (checked[i] as { due: number }).due);
    expect(intervalGaps).toEqual([10_000, 10_000, 10_000, 10_000, 10_000]);

    // Disabled: no trigger after the change reaches the Scheduler, and no queued run goes ahead.
    const disable = await cli('beat', 'disable', 'Every 10 s');
    expect(disable.code, disable.stderr).toBe(0);
    const disabledAt = Date.now();
    await sleep(75_000);
    const late = fires('Every 10 s').filter((f) => Date.parse(f.scheduledTime) > disabledAt + 3_000);
    expect(late).toEqual([]);
    const lastTrigger = fires('Every 10 s').at(-1) as Fire;
    const afterDisable = (await runsOf(lastTrigger, expansion)).filter((r) => r.due > disabledAt + 3_000);
    for (const run of afterDisable) expect(run.status, run.id).toBeUndefined();

    // The clocked task fired once and is disabled.
    expect(fires('Once')).toHaveLength(1);
    const rows = (await cli('beat', 'list', '--json')).json().items as { name: string; enabled: boolean }[];
    expect(rows.find((row) => row.name === 'Once')).toMatchObject({ enabled: false, totalRunCount: 1 });
    expect(rows.find((row) => row.name === 'Every 10 s')).toMatchObject({ enabled: false });
  }, 420_000);
});
