import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogSink } from '../../localstack/dev/log-sink.ts';
import {
  executionId,
  type Run,
  renderRun,
  ScheduleDelivery,
} from '../../localstack/scheduler/scheduler-delivery.ts';

const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:tasks';
const DLQ = 'arn:aws:sqs:us-east-1:123456789012:schedules-dlq';

interface Sent {
  QueueUrl: string;
  MessageBody: string;
  MessageAttributes?: Record<string, { StringValue?: string }>;
}

/** An SQS client whose SendMessage to the task queue fails `failures` times with `code`. */
function fakeSqs(failures: number, code = 'ServiceUnavailable') {
  const sent: Sent[] = [];
  let left = failures;
  const sqs = {
    send: async (command: { input: Sent }) => {
      const input = command.input;
      if (input.QueueUrl === 'url:tasks' && left-- > 0)
        throw Object.assign(new Error('try later'), { name: code });
      sent.push(input);
      return { MessageId: `m${sent.length}` };
    },
  } as unknown as SQSClient;
  return { sqs, sent };
}

function run(
  retry = { maximumRetryAttempts: 3, maximumEventAgeSeconds: 60 },
  scheduledTime = new Date(),
): Run {
  return {
    scheduleArn: 'arn:aws:scheduler:us-east-1:123456789012:schedule/g/s',
    executionId: 'abcdef0123456789',
    scheduledTime,
    target: {
      arn: QUEUE,
      input:
        '<aws.scheduler.execution-id>|<aws.scheduler.scheduled-time>|<aws.scheduler.schedule-arn>|<aws.scheduler.attempt-number>',
      retry,
      deadLetterArn: DLQ,
    },
  };
}

const delivery = (sqs: SQSClient) =>
  new ScheduleDelivery({
    sqs,
    resolveQueueUrl: (arn) => (arn === QUEUE ? 'url:tasks' : 'url:dlq'),
    retryBaseDelayMs: 1,
    signal: new AbortController().signal,
  });

afterEach(() => vi.useRealTimers());

describe('delivering a run', () => {
  it('fills in every context attribute, execution ids look like AWS ones', () => {
    const fixed = run(undefined, new Date('2026-01-01T10:00:00.000Z'));
    expect(renderRun(fixed, 2)).toBe(
      'abcdef0123456789|2026-01-01T10:00:00Z|arn:aws:scheduler:us-east-1:123456789012:schedule/g/s|2',
    );
    expect(executionId()).toMatch(/^[0-9a-f]{16}$/);
    expect(renderRun({ ...run(), target: { ...run().target, input: undefined } }, 1)).toBe('{}');
  });

  it('retries with backoff, counting attempts in the input', async () => {
    const { sqs, sent } = fakeSqs(2);
    const result = await delivery(sqs).deliver(run());
    expect(result).toMatchObject({ outcome: 'delivered', attempts: 3, messageId: 'm1' });
    expect(sent[0]?.MessageBody.endsWith('|3')).toBe(true);
  });

  it('after MaximumRetryAttempts retries, sends the input to the DLQ with the reason', async () => {
    const { sqs, sent } = fakeSqs(10);
    const result = await delivery(sqs).deliver(run());
    expect(result).toMatchObject({ outcome: 'dead-lettered', attempts: 4 });
    expect(sent).toHaveLength(1);
    expect(sent[0]?.QueueUrl).toBe('url:dlq');
    expect(sent[0]?.MessageBody.endsWith('|1')).toBe(true);
    const attrs = sent[0]?.MessageAttributes ?? {};
    expect(attrs.ERROR_CODE?.StringValue).toBe('ServiceUnavailable');
    expect(attrs.EXHAUSTED_RETRY_CONDITION?.StringValue).toBe('MaximumRetryAttempts');
    expect(attrs.RETRY_ATTEMPTS?.StringValue).toBe('3');
    expect(attrs.EXECUTION_ID?.StringValue).toBe('abcdef0123456789');
  });

  it('does not retry past MaximumEventAgeInSeconds', async () => {
    const { sqs, sent } = fakeSqs(10);
    const old = { ...run({ maximumRetryAttempts: 100, maximumEventAgeSeconds: 60 }) };
    old.scheduledTime = new Date(Date.now() - 59_999);
    const result = await delivery(sqs).deliver(old);
    expect(result.outcome).toBe('dead-lettered');
    expect(sent[0]?.MessageAttributes?.EXHAUSTED_RETRY_CONDITION?.StringValue).toBe(
      'MaximumEventAgeInSeconds',
    );
  });

  it('gives up at once on an error no retry can fix', async () => {
    const { sqs, sent } = fakeSqs(10, 'QueueDoesNotExist');
    const result = await delivery(sqs).deliver(run());
    expect(result).toMatchObject({ outcome: 'dead-lettered', attempts: 1 });
    expect(sent[0]?.MessageAttributes?.EXHAUSTED_RETRY_CONDITION).toBeUndefined();
  });
});

describe('the log sink', () => {
  it('writes info and up to the file while the terminal keeps its own level', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'celerity-logs-'));
    const sink = createLogSink(dir);
    const out = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const logger = sink.logger('worker', { component: 'worker' }, { terminalLevel: 'warn' });
    logger.debug('not anywhere');
    logger.info('task succeeded', { taskId: 't1', task: 'apps.demo.add', state: 'SUCCESS', runtimeMs: 3 });
    logger.error('task failed', { taskId: 't2' });
    sink.append('beat', { level: 'info', message: 'schedule fired' });
    const printed = out.mock.calls.map((c) => String(c[0]));
    out.mockRestore();
    await sink.close();
    const lines = readFileSync(join(dir, 'worker.log'), 'utf8')
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines.map((l) => l.message)).toEqual(['task succeeded', 'task failed']);
    expect(lines[0]).toMatchObject({
      level: 'info',
      component: 'worker',
      taskId: 't1',
      state: 'SUCCESS',
      runtimeMs: 3,
    });
    expect(printed).toHaveLength(1);
    expect(printed[0]).toContain('task failed');
    expect(JSON.parse(readFileSync(join(dir, 'beat.log'), 'utf8'))).toMatchObject({
      message: 'schedule fired',
    });
  });
});
