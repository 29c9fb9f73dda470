import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { localStateOf } from '../../localstack/dev/state-file.ts';
import { EXECUTION_ID } from '../../shared/beat/schedule-input.ts';
import { encodeEnvelope } from '../../shared/envelope/index.ts';
import { callToEnvelope } from '../../shared/producer/index.ts';
import { useCliCloud } from '../support/cli-cloud.ts';
import { useEmulator } from '../support/emulator.ts';
import { until } from '../support/until.ts';

const { endpoint } = useEmulator();
const local = useCliCloud(endpoint);
const { cli } = local;

/** Issue #8: every failure queue in view, the target named before each write, confirmation, whole output. */
describe('the CLI, safely, against the local cloud', () => {
  it('shows every failure queue, with each message and its reason, and redrives the scheduler and beat-sync ones', async () => {
    const state = localStateOf(local.cloud);
    const schedulerDlq = state.failureQueues?.scheduler?.url as string;
    const beatSyncQueue = state.failureQueues?.beatSync?.url as string;
    expect(schedulerDlq).toBeTruthy();
    expect(beatSyncQueue).toBeTruthy();
    const executionId = crypto.randomUUID();
    const text = (value: string) => ({ DataType: 'String', StringValue: value });
    // What the Scheduler leaves when it cannot deliver: the target input, and why, as attributes.
    await local.cloud.clients.sqs.send(
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
    // A task that failed for good on the heavy route, its FAILURE row beside it.
    const failed = encodeEnvelope(callToEnvelope({ task: 'apps.demo.tasks.add', args: [1, 2] }, Date.now()));
    await local.cloud.store.complete([
      {
        record: {
          taskId: failed.envelope.id,
          taskName: 'apps.demo.tasks.add',
          status: 'FAILURE',
          errorType: 'TypeError',
          traceback: 'TypeError: cannot add\n    at add (apps/demo/tasks.ts:1:1)',
        },
      },
    ]);
    await local.cloud.clients.sqs.send(
      new SendMessageCommand({ QueueUrl: state.queues?.heavy?.dlqUrl as string, MessageBody: failed.body }),
    );
    // What Lambda leaves when the beat sync gives up on a stream batch.
    await local.cloud.clients.sqs.send(
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
    const heavy = (all.json() as { queue: string; messages: { taskId?: string; reason?: string }[] }[]).find(
      (p) => p.queue === 'heavy',
    );
    expect(heavy?.messages).toContainEqual(
      expect.objectContaining({ taskId: failed.envelope.id, reason: 'FAILURE: TypeError: cannot add' }),
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
      const row = await local.cloud.store.get(executionId);
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
    const file = join(local.dir, 'many.jsonl');
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
      `celerity: acting on the local cloud at ${endpoint} (state file ${local.stateFile}`,
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
      `celerity: acting on the local cloud at ${endpoint} (state file ${local.stateFile}, from CELERITY_STATE_FILE)\n`,
    );
    expect(purged.json()[0]).toMatchObject({
      queue: 'notifications',
      approximateMessages: expect.any(Number),
    });
    expect(purged.json()[0].approximateMessages).toBeGreaterThanOrEqual(800);
  });

  it('says which state file it uses when it found one in a parent folder', async () => {
    const project = join(local.dir, 'project');
    mkdirSync(join(project, '.celerity'), { recursive: true });
    mkdirSync(join(project, 'apps', 'deep'), { recursive: true });
    const parentFile = join(project, '.celerity', 'local.json');
    writeFileSync(parentFile, JSON.stringify(localStateOf(local.cloud)));
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
});
