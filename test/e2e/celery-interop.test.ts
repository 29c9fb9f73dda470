import { execFile, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import type { TaskResultRecord } from '../../shared/results/index.ts';
import { useCliCloud } from '../support/cli-cloud.ts';
import { useEmulator } from '../support/emulator.ts';

// Issue #12, must-show 1: a Celery 5 app (Debian's python3-celery, kombu's SQS transport) sends
// LabControl's tasks to the local cloud unchanged but for its broker settings; the TypeScript
// worker runs them, and a pickle-serialized call ends as a recorded FAILURE.
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, '../support/python/celery_interop.py');

const probe = spawnSync(PYTHON, ['-c', 'import celery, kombu, boto3, pycurl; print(celery.__version__)'], {
  encoding: 'utf8',
});
const missing = probe.error
  ? `${PYTHON} cannot be run (${probe.error.message})`
  : probe.status !== 0
    ? `${PYTHON} lacks celery, kombu, boto3 or pycurl (${probe.stderr.trim().split('\n').at(-1)})`
    : undefined;
const ci = process.env.CI === 'true';
if (missing && !ci)
  console.warn(
    `celery-interop.test.ts skipped: ${missing}; install python3-celery python3-boto3 python3-pycurl (.ci/run does)`,
  );

const { endpoint } = useEmulator();
const local = useCliCloud(endpoint);

interface Line {
  case: string;
  id: string;
  /** A chain's first task (its AsyncResult's `.parent`). */
  first?: string | null;
  sentAt?: number;
  status?: string;
  result?: unknown;
  error?: string;
}

/** The table in Celery's result-backend layout that the local cloud's workers write (the stack's celeryResults). */
function celeryResultsTable(): string {
  const state = JSON.parse(readFileSync(local.stateFile, 'utf8')) as { environment: Record<string, string> };
  const table = state.environment.CELERITY_CELERY_RESULTS_TABLE;
  if (!table)
    throw new Error("the local cloud's workers have no CELERITY_CELERY_RESULTS_TABLE (celeryResults off?)");
  return table;
}

/** Runs the Celery app; each printed line is one call (and, with --get, its outcome). */
async function runCeleryApp(args: string[] = []): Promise<Record<string, Line>> {
  const run = await promisify(execFile)(PYTHON, ['-B', SCRIPT, local.stateFile, ...args], {
    encoding: 'utf8',
    timeout: 240_000,
  });
  const lines = run.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as Line);
  // The last line of a case wins: with --get, its outcome follows its send.
  return Object.fromEntries(lines.map((line) => [line.case, line]));
}

/** The Celerity result row of a task, once it is ready. */
async function readyRow(taskId: string): Promise<TaskResultRecord> {
  const end = Date.now() + 120_000;
  for (;;) {
    const row = await local.cloud.store.get(taskId);
    if (row && ['SUCCESS', 'FAILURE', 'REVOKED'].includes(row.status)) return row;
    if (Date.now() > end) throw new Error(`${taskId} is not ready: ${JSON.stringify(row)}`);
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

describe.skipIf(missing !== undefined && !ci)('a Celery 5 app sending to Celerity (issue #12)', () => {
  it("runs .delay() and .apply_async(countdown=5) in the TypeScript worker under Celery's ids; a pickle call is a recorded FAILURE; a call's soft time limit shortens the task's", async () => {
    if (missing) throw new Error(`CI=true but ${missing}: .ci/run installs python3-celery python3-pycurl`);
    const sent = await runCeleryApp();
    const [delay, countdown, pickle] = ['delay', 'countdown', 'pickle'].map((c) => sent[c] as Line);

    // Run under Celery's own task ids, by the TypeScript tasks of the same names.
    const delayed = await readyRow(delay?.id as string);
    expect(delayed).toMatchObject({
      taskId: delay?.id,
      taskName: 'apps.notifications.tasks.send_bulk_notification',
      status: 'SUCCESS',
      queue: 'notifications',
      args: JSON.stringify([['celery-user-1', 'celery-user-2'], 'Maintenance', 'Closed on Friday', 'info']),
    });
    expect(JSON.parse(delayed.result as string)).toBe('Created 2 notifications');

    const later = await readyRow(countdown?.id as string);
    expect(later).toMatchObject({
      taskName: 'apps.appointments.tasks.send_appointment_reminders',
      status: 'SUCCESS',
      queue: 'default',
    });
    expect(JSON.parse(later.result as string)).toBe('Sent 0 reminders');
    // Held back for its countdown (the eta Celery wrote), not run on arrival.
    expect(Date.parse(later.eta as string)).toBeGreaterThanOrEqual(
      Math.floor((countdown?.sentAt as number) * 1000) + 4_000,
    );
    expect(Date.parse(later.dateStarted as string)).toBeGreaterThanOrEqual(
      Date.parse(later.eta as string) - 1000,
    );

    // The pickle body never runs: FAILURE under its id with the reason, read as anyone would.
    const refused = await readyRow(pickle?.id as string);
    expect(refused).toMatchObject({
      taskName: 'apps.notifications.tasks.send_bulk_notification',
      status: 'FAILURE',
      errorType: 'ContentDisallowedError',
    });
    expect(refused.traceback).toMatch(/untrusted content of type pickle/);
    const cli = await local.cli(['result', pickle?.id as string, '--json']);
    expect(cli.json()).toMatchObject({ taskId: pickle?.id, status: 'FAILURE' });

    // soft_time_limit=1 on the call shortens the task's own 2 s: the run is stopped at 1 s.
    const limited = await readyRow(sent['time-limit']?.id as string);
    expect(limited).toMatchObject({
      taskName: 'apps.demo.tasks.slow',
      status: 'FAILURE',
      errorType: 'SoftTimeLimitExceeded',
    });
    expect(limited.traceback).toMatch(/soft time limit \(1 s\) exceeded/);

    // A Celery chain's first task runs under the id Celery froze for it, carrying the rest.
    const chainHead = await readyRow(sent.chain?.first as string);
    expect(chainHead).toMatchObject({
      taskName: 'apps.appointments.tasks.send_appointment_reminders',
      status: 'SUCCESS',
    });
    // ... and the worker sends the next one, under the id Celery froze for it, as its follow-up.
    expect(await readyRow(sent.chain?.id as string)).toMatchObject({
      taskName: 'apps.notifications.tasks.send_bulk_notification',
      status: 'SUCCESS',
      result: JSON.stringify('Created 1 notifications'),
    });
  });

  it("returns the TypeScript tasks' results to AsyncResult.get() in Python (a chain's last task's too), and re-raises the pickle refusal and a failed chain's error", async () => {
    if (missing) throw new Error(`CI=true but ${missing}: .ci/run installs python3-celery python3-pycurl`);
    const got = await runCeleryApp([
      '--results-table',
      celeryResultsTable(),
      '--get',
      'delay,countdown,pickle,chain,chain-fail',
    ]);
    expect(got.delay).toMatchObject({ status: 'SUCCESS', result: 'Created 2 notifications' });
    expect(got.countdown).toMatchObject({ status: 'SUCCESS', result: 'Sent 0 reminders' });
    // .get() re-raises the recorded FAILURE as Celery's own ContentDisallowed.
    expect(got.pickle?.status).toBe('FAILURE');
    expect(got.pickle?.error).toMatch(/^ContentDisallowed.*pickle/);
    // A chain's AsyncResult is its last task's: sent by the worker as a follow-up, still Celery's.
    expect(got.chain).toMatchObject({ status: 'SUCCESS', result: 'Created 1 notifications' });
    // A chain stopped by its first task's failure: as Celery's mark_as_failure does, the members
    // that never run get that failure, in Celerity's table and in Celery's layout, so .get() on
    // the chain (its last member) re-raises it at once rather than waiting out its timeout.
    expect(got['chain-fail']?.status).toBe('FAILURE');
    expect(got['chain-fail']?.error).toMatch(/^SoftTimeLimitExceeded/);
    expect(await readyRow(got['chain-fail']?.id as string)).toMatchObject({
      taskName: 'apps.notifications.tasks.send_bulk_notification',
      status: 'FAILURE',
    });
  });
});
