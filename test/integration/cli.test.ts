import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { localStateOf } from '../../localstack/dev/state-file.ts';
import { encodeEnvelope } from '../../shared/envelope/index.ts';
import { callToEnvelope } from '../../shared/producer/index.ts';
import { useCliCloud } from '../support/cli-cloud.ts';
import { startCli } from '../support/cli-runner.ts';
import { useEmulator } from '../support/emulator.ts';
import { until } from '../support/until.ts';

const { endpoint } = useEmulator();
const local = useCliCloud(endpoint);
const { cli } = local;

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
    const file = join(local.dir, 'calls.jsonl');
    writeFileSync(file, Array.from({ length: 25 }, (_, i) => JSON.stringify({ args: [i, 1] })).join('\n'));
    const ok = await cli(['call', 'apps.demo.tasks.add', '--from-file', file, '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.json().sent).toBe(25);
    expect(ok.stderr).not.toContain('sending [');
    const last = ok.json().tasks[24].taskId;
    await until('the batch to run', async () =>
      (await local.cloud.store.get(last))?.status === 'SUCCESS' ? true : undefined,
    );
  });

  it('revokes, inspects active tasks, registered tasks and queues', async () => {
    const later = (
      await cli(['--json', 'call', 'apps.demo.tasks.add', '--args', '[1,1]', '--countdown', '600'])
    ).json();
    // A run holding its lease right now, as a worker mid-task leaves it.
    await local.cloud.store.claim([
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
    expect(revoked.json()).toEqual([
      {
        taskId: later.taskId,
        status: 'REVOKED',
        revoked: true,
        deletedSchedules: [],
        expiresAt: expect.any(String),
      },
    ]);
    expect(active.json().map((t: { taskId: string }) => t.taskId)).toEqual(['active-1']);
    const depths = queues.json().queues;
    expect(depths.map((q: { queue: string }) => q.queue).sort()).toEqual([
      'default',
      'heavy',
      'notifications',
    ]);
    expect(depths.find((q: { queue: string }) => q.queue === 'default').delayed).toBeGreaterThanOrEqual(1);
    expect(depths[0].dlq).toMatchObject({ visible: expect.any(Number) });
    // A foreign producer finds every queue's URL here (docs/envelope.md), and its DLQ's.
    for (const q of depths as {
      queue: string;
      url: string;
      arn: string;
      dlq: { url: string; arn: string };
    }[]) {
      expect(q).toMatchObject(local.cloud.config.queues[q.queue] ?? {});
      expect(q.dlq).toMatchObject({
        url: expect.stringMatching(/^http/),
        arn: expect.stringMatching(/^arn:/),
      });
    }

    await local.cloud.store.complete([
      { record: { taskId: 'done-1', taskName: 'apps.demo.tasks.add', status: 'SUCCESS', result: '2' } },
    ]);
    const [again, finished] = await Promise.all([cli(['revoke', later.taskId]), cli(['revoke', 'done-1'])]);
    expect(again.code).toBe(0);
    expect(finished.code).toBe(1);
    expect(finished.stdout).toContain('not revoked done-1: already finished with SUCCESS');
  });

  it('shows and redrives dead letters, and purges only with --yes', async () => {
    const dlqUrl = localStateOf(local.cloud).queues?.default?.dlqUrl as string;
    const { envelope, body } = encodeEnvelope(
      callToEnvelope({ task: 'apps.demo.tasks.add', args: [20, 22] }, Date.now()),
    );
    await local.cloud.clients.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: body }));
    await local.cloud.clients.sqs.send(new SendMessageCommand({ QueueUrl: dlqUrl, MessageBody: 'not json' }));

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
      (await local.cloud.store.get(envelope.id))?.status === 'SUCCESS' ? true : undefined,
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

    const follow = startCli(local.stateFile, ['logs', 'worker', '--follow', '--json']);
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

  it('says when the target cannot be reached (exit 4)', async () => {
    const deadFile = join(local.dir, 'dead.json');
    writeFileSync(deadFile, JSON.stringify({ ...localStateOf(local.cloud), endpoint: 'http://127.0.0.1:9' }));
    const [missing, dead] = await Promise.all([
      cli(['--local', 'tasks'], { CELERITY_STATE_FILE: join(local.dir, 'missing.json') }),
      cli(['tasks', '--json'], { CELERITY_STATE_FILE: deadFile }),
    ]);
    expect(missing.code).toBe(4);
    expect(missing.stderr).toContain('npm run dev');
    expect(dead.code).toBe(4);
    expect(dead.json().error).toMatchObject({ code: 4, type: 'TargetUnreachable' });

    // A state file may point only at this machine: refused before any request is made.
    const remoteFile = join(local.dir, 'remote.json');
    writeFileSync(
      remoteFile,
      JSON.stringify({ ...localStateOf(local.cloud), endpoint: 'http://10.0.0.5:4566' }),
    );
    const remote = await cli(['purge', 'heavy', '--yes'], { CELERITY_STATE_FILE: remoteFile });
    expect(remote.code).toBe(4);
    expect(remote.stderr).toContain(`${remoteFile}: refusing its endpoint http://10.0.0.5:4566`);
    expect(remote.stderr).not.toContain('acting on');
  });
});
