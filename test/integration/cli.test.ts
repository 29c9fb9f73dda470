import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localStateOf } from '../../cli/state.ts';
import { type LocalCloud, startLocalCloud } from '../../localstack/local-cloud.ts';
import { EXECUTION_ID } from '../../shared/beat/schedule-input.ts';
import { encodeEnvelope } from '../../shared/envelope/index.ts';
import { callToEnvelope } from '../../shared/producer/index.ts';
import { type Run, runCli, startCli } from '../support/cli-runner.ts';
import { useEmulator } from '../support/emulator.ts';
import { until } from '../support/until.ts';

const { endpoint } = useEmulator();

let cloud: LocalCloud;
let dir: string;
let stateFile: string;

/** The real CLI, as a user runs it, against the state file this suite wrote. */
function cli(
  args: string[],
  env: Record<string, string> = {},
  options: { cwd?: string; throughPipe?: boolean } = {},
): Promise<Run> {
  return runCli(stateFile, args, env, options);
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'celerity-cli-'));
  // The log files `celerity logs` reads, where `npm run dev` puts them: beside the state file.
  cloud = await startLocalCloud({
    endpoint,
    logLevel: 'silent',
    logDir: join(dir, 'logs'),
    overrides: { waitTimeSeconds: 1 },
  });
  stateFile = join(dir, 'local.json');
  writeFileSync(stateFile, `${JSON.stringify(localStateOf(cloud), null, 2)}\n`);
});

afterAll(async () => {
  await cloud?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('celerity CLI against the local cloud', () => {
  it('calls a task and reads its result; lists it by state and by name', async () => {
    const called = await cli([
      '--json',
      'call',
      'apps.demo.tasks.add',
      '--args',
      '[2,3]',
      '--wait',
      '--timeout',
      '60',
    ]);
    expect(called.code, called.stderr).toBe(0);
    const sent = called.json();
    expect(sent.result).toMatchObject({ status: 'SUCCESS', result: 5, args: [2, 3] });

    const [human, byState, byName, failed, unknown] = await Promise.all([
      cli(['result', sent.taskId]),
      cli(['tasks', '--state', 'success', '--json']),
      cli(['tasks', '--name', 'apps.demo.tasks.add', '--since', '10m', '--json']),
      cli(['--json', 'call', 'apps.demo.tasks.slow', '--args', '[5]', '--wait', '--timeout', '60']),
      cli(['result', 'no-such-task']),
    ]);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/state\s+SUCCESS/);
    expect(human.stdout).toMatch(/result\s+5/);
    expect(byState.json().items.map((t: { taskId: string }) => t.taskId)).toContain(sent.taskId);
    expect(byName.json().items[0]).toMatchObject({ taskId: sent.taskId, taskName: 'apps.demo.tasks.add' });
    expect(failed.code).toBe(1);
    expect(failed.json().result).toMatchObject({ status: 'FAILURE', errorType: 'SoftTimeLimitExceeded' });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).toContain('no-such-task');
  });

  it('refuses arguments the task refuses, with exit 2 naming the argument (more in test/unit/cli.test.ts)', async () => {
    const [wrongType, json] = await Promise.all([
      cli(['call', 'apps.demo.tasks.add', '--args', '["two",3]']),
      cli(['--json', 'call', 'apps.demo.tasks.add', '--args', '[1]']),
    ]);
    expect(wrongType.code).toBe(2);
    expect(wrongType.stderr).toContain('--args[0]: Invalid input: expected number');
    expect(wrongType.stderr).not.toMatch(/\n\s+at /);
    expect(json.code).toBe(2);
    expect(json.json().error).toMatchObject({ code: 2, field: expect.stringContaining('args') });
  });

  it('sends many calls from a file with SendMessageBatch', async () => {
    const file = join(dir, 'calls.jsonl');
    writeFileSync(file, Array.from({ length: 25 }, (_, i) => JSON.stringify({ args: [i, 1] })).join('\n'));
    const ok = await cli(['call', 'apps.demo.tasks.add', '--from-file', file, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json().sent).toBe(25);
    expect(ok.stderr).not.toContain('sending [');
    const last = ok.json().tasks[24].taskId;
    await until('the batch to run', async () =>
      (await cloud.store.get(last))?.status === 'SUCCESS' ? true : undefined,
    );
  });

  it('revokes, inspects active tasks, registered tasks and queues', async () => {
    const later = (
      await cli(['--json', 'call', 'apps.demo.tasks.add', '--args', '[1,1]', '--countdown', '600'])
    ).json();
    // A run holding its lease right now, as a worker mid-task leaves it.
    await cloud.store.claim([
      {
        taskId: 'active-1',
        taskName: 'apps.demo.tasks.slow',
        status: 'STARTED',
        retries: 0,
        dateCreated: new Date().toISOString(),
        dateStarted: new Date().toISOString(),
        leaseUntil: Date.now() + 120_000,
        leaseToken: 'token',
      },
    ]);
    const [revoked, active, queues] = await Promise.all([
      cli(['revoke', later.taskId, '--json']),
      cli(['inspect', 'active', '--json']),
      cli(['inspect', 'queues', '--json']),
    ]);
    expect(revoked.code).toBe(0);
    expect(revoked.json()).toEqual([{ taskId: later.taskId, status: 'REVOKED', revoked: true }]);
    expect(active.json().map((t: { taskId: string }) => t.taskId)).toEqual(['active-1']);
    const depths = queues.json().queues;
    expect(depths.map((q: { queue: string }) => q.queue).sort()).toEqual([
      'default',
      'heavy',
      'notifications',
    ]);
    expect(depths.find((q: { queue: string }) => q.queue === 'default').delayed).toBeGreaterThanOrEqual(1);
    expect(depths[0].dlq).toMatchObject({ visible: expect.any(Number) });

    await cloud.store.complete([
      { record: { taskId: 'done-1', taskName: 'apps.demo.tasks.add', status: 'SUCCESS', result: '2' } },
    ]);
    const [again, finished] = await Promise.all([cli(['revoke', later.taskId]), cli(['revoke', 'done-1'])]);
    expect(again.code).toBe(0);
    expect(finished.code).toBe(1);
    expect(finished.stdout).toContain('not revoked done-1: already finished with SUCCESS');
  });

  it('shows and redrives dead letters, and purges only with --yes', async () => {
    const dlqUrl = localStateOf(cloud).queues?.default?.dlqUrl as string;
    const { envelope, body } = encodeEnvelope(
      callToEnvelope({ task: 'apps.demo.tasks.add', args: [20, 22] }, Date.now()),
    );
    await cloud.clients.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: body }));
    await cloud.clients.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: 'not json' }));

    const shown = await cli(['dlq', 'show', 'default', '--json']);
    expect(shown.code, shown.stderr).toBe(0);
    const messages = shown.json().messages;
    expect(messages).toHaveLength(2);
    expect(messages).toContainEqual(
      expect.objectContaining({ taskId: envelope.id, task: 'apps.demo.tasks.add' }),
    );
    const [peekedAgain, unknownQueue] = await Promise.all([
      cli(['dlq', 'show', 'default', '--json']),
      cli(['dlq', 'show', 'nope']),
    ]);
    expect(peekedAgain.json().messages).toHaveLength(2);
    expect(unknownQueue.code).toBe(3);
    expect(unknownQueue.stderr).toContain('known: default');

    const redriven = await cli(['dlq', 'redrive', 'default', '--yes', '--json']);
    expect(redriven.json()).toMatchObject({ strategy: 'copy', moved: 2, failed: 0 });
    await until('the redriven task to run', async () =>
      (await cloud.store.get(envelope.id))?.status === 'SUCCESS' ? true : undefined,
    );
    const purged = await cli(['purge', 'heavy', '--yes', '--json']);
    expect(purged.code).toBe(0);
    expect(purged.json()[0]).toMatchObject({ queue: 'heavy' });
  });

  it('manages periodic tasks', async () => {
    const setup = await cli(['beat', 'setup', '--json']);
    expect(setup.code, setup.stderr).toBe(0);
    expect(setup.json().created).toHaveLength(2);
    const add = ['beat', 'add', '--name', 'every-5', '--task', 'apps.demo.tasks.noop'];
    const [added, badTask] = await Promise.all([
      cli([...add, '--every', '5', '--period', 'minutes', '--json']),
      cli(['beat', 'add', '--name', 'x', '--task', 'apps.demo.tasks.nope', '--crontab', '0 9 * * *']),
    ]);
    expect(added.code, added.stderr).toBe(0);
    expect(added.json()).toMatchObject({ name: 'every-5', interval: { every: 5, period: 'minutes' } });
    expect(badTask.code).toBe(2);
    expect(badTask.stderr).toContain('--task: apps.demo.tasks.nope is not a registered task');

    const [listed, disabled, run, preview] = await Promise.all([
      cli(['beat', 'list', '--json']),
      cli(['beat', 'disable', 'every-5', '--json']),
      cli(['beat', 'run', 'Send Appointment Reminders', '--json']),
      cli(['beat', 'preview', 'Send Appointment Reminders', '--count', '2', '--json']),
    ]);
    expect(listed.json().items.map((p: { name: string }) => p.name)).toEqual([
      'Cleanup Old Notifications',
      'Send Appointment Reminders',
      'every-5',
    ]);
    expect(disabled.json()).toMatchObject({ enabled: false });
    expect(run.json()).toMatchObject({
      task: 'apps.appointments.tasks.send_appointment_reminders',
      periodicTask: 'Send Appointment Reminders',
    });
    expect(preview.json().times).toHaveLength(2);
    expect(new Date(preview.json().times[0]).getUTCMinutes()).toBe(0);

    const refused = await cli(['beat', 'remove', 'every-5']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes: refusing to remove the periodic task "every-5"');
    const removed = await cli(['beat', 'remove', 'every-5', '--yes']);
    expect(removed.code).toBe(0);
    expect(removed.stderr).toContain(`celerity: acting on the local cloud at ${endpoint}`);
    const [gone, human] = await Promise.all([
      cli(['beat', 'remove', 'every-5', '--yes']),
      cli(['beat', 'list']),
    ]);
    expect(gone.code).toBe(3);
    expect(human.stdout).toMatch(/Send Appointment Reminders\s+apps\.appointments/);
  });

  it("reads the local cloud's log files, and follows the worker's", async () => {
    const called = await cli(['--json', 'call', 'apps.demo.tasks.add', '--args', '[20,22]', '--wait']);
    expect(called.code, called.stderr).toBe(0);
    const taskId = called.json().taskId as string;
    const [json, human, filtered, beat] = await Promise.all([
      cli(['logs', 'worker', '--json']),
      cli(['logs', 'worker']),
      cli(['logs', 'worker', '--task-id', taskId, '--json']),
      cli(['logs', 'beat', '--json']),
    ]);
    expect(json.code, json.stderr).toBe(0);
    const entries = json.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(entries).toContainEqual(
      expect.objectContaining({
        message: 'task succeeded',
        taskId,
        task: 'apps.demo.tasks.add',
        state: 'SUCCESS',
      }),
    );
    expect(entries).toContainEqual(expect.objectContaining({ message: 'invocation', outcome: 'success' }));
    expect(human.stdout).toMatch(new RegExp(`task succeeded .*taskId=${taskId}`));
    const own = filtered.stdout
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l) as { taskId?: string });
    expect(own.length).toBeGreaterThan(0);
    expect(own.every((e) => e.taskId === taskId)).toBe(true);
    // The periodic tasks added above went through the beat-sync function: its invocations are logged.
    expect(beat.code, beat.stderr).toBe(0);
    expect(beat.stdout).toContain('"message":"invocation"');

    const follow = startCli(stateFile, ['logs', 'worker', '--follow', '--json']);
    try {
      const later = await cli(['--json', 'call', 'apps.demo.tasks.add', '--args', '[1,2]', '--wait']);
      const laterId = later.json().taskId as string;
      await until('the followed log to show the new task', async () =>
        follow.output().includes(laterId) ? true : undefined,
      );
    } finally {
      await follow.stop();
    }
  });

  it('shows every failure queue, with each message and its reason, and redrives the scheduler and beat-sync ones', async () => {
    const state = localStateOf(cloud);
    const schedulerDlq = state.failureQueues?.scheduler?.url as string;
    const beatSyncQueue = state.failureQueues?.beatSync?.url as string;
    expect(schedulerDlq).toBeTruthy();
    expect(beatSyncQueue).toBeTruthy();
    const executionId = crypto.randomUUID();
    const text = (value: string) => ({ DataType: 'String', StringValue: value });
    // What the Scheduler leaves when it cannot deliver: the target input, and why, as attributes.
    await cloud.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: schedulerDlq,
        MessageBody: JSON.stringify({ v: 1, id: EXECUTION_ID, task: 'apps.demo.tasks.add', args: [40, 2] }),
        MessageAttributes: {
          ERROR_CODE: text('AWS.SQS.KmsAccessDenied'),
          ERROR_MESSAGE: text('The scheduler role may not use the key'),
          EXECUTION_ID: text(executionId),
          RETRY_ATTEMPTS: { DataType: 'Number', StringValue: '9' },
          SCHEDULE_ARN: text('arn:aws:scheduler:us-east-1:000000000000:schedule/delays/job'),
          TARGET_ARN: text(state.queues?.default?.arn as string),
        },
      }),
    );
    // What Lambda leaves when the beat sync gives up on a stream batch.
    await cloud.clients.sqs.send(
      new SendMessageCommand({
        QueueUrl: beatSyncQueue,
        MessageBody: JSON.stringify({
          requestContext: {
            requestId: 'r-1',
            functionArn: 'arn:fn',
            condition: 'RetryAttemptsExhausted',
            approximateInvokeCount: 4,
          },
          responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
          version: '1.0',
          timestamp: new Date().toISOString(),
          DDBStreamBatchInfo: {
            shardId: 'shardId-01',
            startSequenceNumber: '100',
            endSequenceNumber: '104',
            batchSize: 5,
            streamArn: 'arn:stream',
          },
        }),
      }),
    );

    // Counted before the peeks, which hold messages in flight for a moment.
    const [queues, human] = await Promise.all([
      cli(['inspect', 'queues', '--json']),
      cli(['inspect', 'queues']),
    ]);
    const scheduler = await cli(['dlq', 'show', 'scheduler', '--json']);
    const [beatSync, all] = await Promise.all([
      cli(['dlq', 'show', 'beat-sync']),
      cli(['dlq', 'show', '--all', '--json']),
    ]);
    expect(queues.code, queues.stderr).toBe(0);
    const failureQueues = queues.json().failureQueues as { name: string; kind: string; visible: number }[];
    expect(failureQueues.map((q) => q.name).sort()).toEqual([
      'beat-sync',
      'default',
      'heavy',
      'notifications',
      'scheduler',
    ]);
    expect(failureQueues.find((q) => q.name === 'scheduler')).toMatchObject({
      kind: 'scheduler',
      visible: 1,
    });
    expect(failureQueues.find((q) => q.name === 'beat-sync')).toMatchObject({
      kind: 'beat-sync',
      visible: 1,
    });
    expect(human.stdout).toMatch(/scheduler\s+1\s+0\s+schedule deliveries the Scheduler gave up on/);
    expect(scheduler.code, scheduler.stderr).toBe(0);
    expect(scheduler.json().messages).toEqual([
      expect.objectContaining({
        taskId: executionId,
        task: 'apps.demo.tasks.add',
        reason: 'AWS.SQS.KmsAccessDenied: The scheduler role may not use the key',
        scheduler: expect.objectContaining({ errorCode: 'AWS.SQS.KmsAccessDenied', retryAttempts: 9 }),
      }),
    ]);
    expect(beatSync.stdout).toContain(
      'RetryAttemptsExhausted after 4 invocations, stream batch of 5 records, shard shardId-01, sequence 100 to 104',
    );
    expect((all.json() as { queue: string }[]).map((p) => p.queue).sort()).toEqual([
      'beat-sync',
      'default',
      'heavy',
      'notifications',
      'scheduler',
    ]);

    // The Scheduler's dead letter goes to its target queue, under the failed delivery's task id.
    const resent = await cli(['dlq', 'redrive', 'scheduler', '--yes', '--json']);
    expect(resent.code, resent.stderr).toBe(0);
    expect(resent.json()).toMatchObject({ strategy: 'resend', moved: 1, failed: 0 });
    await until('the re-sent delivery to run', async () => {
      const row = await cloud.store.get(executionId);
      return row?.status === 'SUCCESS' ? row : undefined;
    });
    // A beat-sync failure record is retried by rebuilding the schedules from the table.
    const rebuilt = await cli(['dlq', 'redrive', 'beat-sync', '--yes', '--json']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(rebuilt.json()).toMatchObject({ strategy: 'reconcile', moved: 1, failed: 0 });
    const after = (await cli(['inspect', 'queues', '--json'])).json().failureQueues as {
      name: string;
      visible: number;
    }[];
    expect(after.filter((q) => ['scheduler', 'beat-sync'].includes(q.name)).map((q) => q.visible)).toEqual([
      0, 0,
    ]);
  });

  it('asks before purging (exit 2 without --yes and a terminal), names the target, and pipes > 64 KiB of --json whole', async () => {
    const file = join(dir, 'many.jsonl');
    writeFileSync(file, Array.from({ length: 800 }, (_, i) => JSON.stringify({ args: [i, 1] })).join('\n'));
    const sent = await cli(
      [
        'call',
        'apps.demo.tasks.add',
        '--from-file',
        file,
        '--queue',
        'notifications',
        '--countdown',
        '900',
        '--json',
      ],
      {},
      { throughPipe: true },
    );
    expect(sent.code, sent.stderr).toBe(0);
    expect(sent.stdout.length).toBeGreaterThan(64 * 1024);
    expect(sent.json().tasks).toHaveLength(800);
    expect(sent.stderr).toContain(
      `celerity: acting on the local cloud at ${endpoint} (state file ${stateFile}`,
    );

    const refused = await cli(['purge', 'notifications']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('--yes: refusing to purge queue notifications');
    const depth = (await cli(['inspect', 'queues', '--json'])).json().queues as {
      queue: string;
      delayed: number;
    }[];
    expect(depth.find((q) => q.queue === 'notifications')?.delayed).toBeGreaterThanOrEqual(800);

    const purged = await cli(['purge', 'notifications', '--yes', '--json']);
    expect(purged.code, purged.stderr).toBe(0);
    expect(purged.stderr).toBe(
      `celerity: acting on the local cloud at ${endpoint} (state file ${stateFile}, from CELERITY_STATE_FILE)\n`,
    );
    expect(purged.json()[0]).toMatchObject({
      queue: 'notifications',
      approximateMessages: expect.any(Number),
    });
    expect(purged.json()[0].approximateMessages).toBeGreaterThanOrEqual(800);
  });

  it('says which state file it uses when it found one in a parent folder', async () => {
    const project = join(dir, 'project');
    mkdirSync(join(project, '.celerity'), { recursive: true });
    mkdirSync(join(project, 'apps', 'deep'), { recursive: true });
    const parentFile = join(project, '.celerity', 'local.json');
    writeFileSync(parentFile, JSON.stringify(localStateOf(cloud)));
    const read = await cli(
      ['inspect', 'queues'],
      { CELERITY_STATE_FILE: '' },
      { cwd: join(project, 'apps', 'deep') },
    );
    expect(read.code, read.stderr).toBe(0);
    expect(read.stderr).toBe(
      `celerity: reading the local cloud at ${endpoint} (state file ${parentFile}, found in a parent folder)\n`,
    );
  });

  it('says when the target cannot be reached (exit 4)', async () => {
    const deadFile = join(dir, 'dead.json');
    writeFileSync(deadFile, JSON.stringify({ ...localStateOf(cloud), endpoint: 'http://127.0.0.1:9' }));
    const [missing, dead] = await Promise.all([
      cli(['--local', 'tasks'], { CELERITY_STATE_FILE: join(dir, 'missing.json') }),
      cli(['tasks', '--json'], { CELERITY_STATE_FILE: deadFile }),
    ]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('npm run dev');
    expect(dead.code).toBe(4);
    expect(dead.json().error).toMatchObject({ code: 4, type: 'TargetUnreachable' });

    // A state file may point only at this machine: refused before any request is made.
    const remoteFile = join(dir, 'remote.json');
    writeFileSync(remoteFile, JSON.stringify({ ...localStateOf(cloud), endpoint: 'http://10.0.0.5:4566' }));
    const remote = await cli(['purge', 'heavy', '--yes'], { CELERITY_STATE_FILE: remoteFile });
    expect(remote.code).toBe(4);
    expect(remote.stderr).toContain(`${remoteFile}: refusing its endpoint http://10.0.0.5:4566`);
    expect(remote.stderr).not.toContain('acting on');
  });
});
