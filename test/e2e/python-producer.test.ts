import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { TASK_ROUTES } from '../../functions/tasks/index.ts';
import { useCliCloud } from '../support/cli-cloud.ts';
import { useEmulator } from '../support/emulator.ts';

// Issue #9, must-show 4: the Python producer in docs/ (boto3 only), run against the local cloud
// with the real worker handlers: a plain task, a delayed one, a naive eta, a bad envelope.
const PYTHON = '/usr/bin/python3';
const SCRIPT = join(import.meta.dirname, '../../docs/examples/python_producer.py');

const probe = spawnSync(PYTHON, ['-c', 'import boto3'], { encoding: 'utf8' });
const missing = probe.error
  ? `${PYTHON} cannot be run (${probe.error.message})`
  : probe.status !== 0
    ? `${PYTHON} has no boto3`
    : undefined;
const ci = process.env.CI === 'true';
if (missing && !ci)
  console.warn(`python-producer.test.ts skipped: ${missing}; install python3-boto3 (.ci/run does)`);

/** Runs the script; a failing run (exit code not 0) rejects with its stderr. */
const runPython = (args: string[]) => promisify(execFile)(PYTHON, [SCRIPT, ...args], { encoding: 'utf8' });

const { endpoint } = useEmulator();
const local = useCliCloud(endpoint);

describe.skipIf(missing !== undefined && !ci)('the Python producer of docs/examples (issue #9)', () => {
  it('sends a plain task, a countdown, a naive eta and a bad envelope, and reads each outcome back', async () => {
    if (missing) throw new Error(`CI=true but ${missing}: .ci/run installs python3-boto3`);
    const run = await runPython([local.stateFile]);
    expect(run.stderr).toBe('');
    // biome-ignore lint/suspicious/noExplicitAny: each line is checked field by field below
    const cases: Record<string, any> = Object.fromEntries(
      run.stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line))
        .map((line) => [line.case, line]),
    );
    expect(cases.plain).toMatchObject({ status: 'SUCCESS', result: 5 });

    for (const [name, sum] of [
      ['countdown', 9],
      ['naive-eta', 13],
    ] as const) {
      const row = cases[name];
      expect(row).toMatchObject({ status: 'SUCCESS', result: sum });
      // Held back until its eta, which the worker reads as UTC (a naive one gets its Z); the
      // worker runs a message whose eta is less than a second off (SQS delays are whole seconds).
      expect(row.eta).toMatch(/(Z|\+00:00)$/);
      expect(Date.parse(row.dateStarted)).toBeGreaterThanOrEqual(Date.parse(row.eta) - 1000);
    }
    expect(cases['naive-eta'].eta).toMatch(/\d\d:\d\d:\d\d(\.\d+)?Z$/);

    // The bad envelope's FAILURE, read back by the script from DynamoDB, names every bad field.
    expect(cases['bad-envelope']).toMatchObject({ taskId: 'python bad id', status: 'FAILURE' });
    expect(cases['bad-envelope'].traceback).toMatch(/envelope\.id: may hold only/);
    expect(cases['bad-envelope'].traceback).toMatch(/envelope\.countdown: is not a field .*set eta/);
    expect(cases.refused.error).toMatch(/^task_id: 'order 42' may hold only/);

    // ... and by the CLI, as anyone else would.
    const cli = await local.cli(['result', 'python bad id', '--json']);
    expect(cli.json()).toMatchObject({ taskId: 'python bad id', status: 'FAILURE' });
  });

  it("routes task names as the app's config does", async () => {
    if (missing) throw new Error(`CI=true but ${missing}`);
    const names = [
      'apps.studies.tasks.process_large_file',
      'apps.notifications.tasks.send_email_notification',
      'apps.demo.tasks.add',
    ];
    const program = `import sys, json; sys.path.insert(0, ${JSON.stringify(join(SCRIPT, '..'))}); import python_producer as p; print(json.dumps({n: p.route(n) for n in ${JSON.stringify(names)}}))`;
    const probeRoutes = spawnSync(PYTHON, ['-B', '-c', program], { encoding: 'utf8' });
    expect(probeRoutes.stderr).toBe('');
    expect(JSON.parse(probeRoutes.stdout)).toEqual({
      [names[0] as string]: TASK_ROUTES['apps.studies.tasks.process_large_file'],
      [names[1] as string]: TASK_ROUTES['apps.notifications.tasks.*'],
      [names[2] as string]: 'default',
    });
  });
});
