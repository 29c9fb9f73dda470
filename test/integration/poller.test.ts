import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { InvocationAbandoned } from '../../localstack/errors.ts';
import {
  type BatchReport,
  SqsPoller,
  type SqsPollerOptions,
} from '../../localstack/event-sources/sqs-poller.ts';
import { crashInvocation, fenceAbandonedInvocations } from '../../localstack/lambda/invocation-scope.ts';
import { type AwsClients, createAwsClients } from '../../shared/aws/index.ts';
import { useEmulator } from '../support/emulator.ts';

const REGION = 'us-east-1';
const { endpoint } = useEmulator();
let clients: AwsClients;
const pollers: SqsPoller[] = [];

beforeAll(() => {
  clients = createAwsClients({ endpoint, region: REGION });
  // As the local cloud does: what an abandoned invocation sends never goes out.
  fenceAbandonedInvocations(clients.sqs);
});

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

let counter = 0;

/** A fresh queue (and DLQ) per test, so one test's leftovers never reach another's handler. */
async function makeQueue(options: { visibility?: number; maxReceiveCount?: number } = {}) {
  const name = `poller-${process.pid}-${++counter}`;
  const attrs = async (url: string) =>
    (await clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] })))
      .Attributes ?? {};
  const dlqUrl = (await clients.sqs.send(new CreateQueueCommand({ QueueName: `${name}-dlq` })))
    .QueueUrl as string;
  const dlqArn = (await attrs(dlqUrl)).QueueArn as string;
  const url = (
    await clients.sqs.send(
      new CreateQueueCommand({
        QueueName: name,
        Attributes: {
          VisibilityTimeout: String(options.visibility ?? 1),
          ...(options.maxReceiveCount
            ? {
                RedrivePolicy: JSON.stringify({
                  deadLetterTargetArn: dlqArn,
                  maxReceiveCount: options.maxReceiveCount,
                }),
              }
            : {}),
        },
      }),
    )
  ).QueueUrl as string;
  const arn = (await attrs(url)).QueueArn as string;
  const depth = async (queueUrl = url) => {
    const a = await attrs(queueUrl);
    return {
      visible: Number(a.ApproximateNumberOfMessages),
      hidden: Number(a.ApproximateNumberOfMessagesNotVisible),
    };
  };
  return { url, arn, dlqUrl, depth };
}

async function send(url: string, bodies: string[]): Promise<void> {
  for (let start = 0; start < bodies.length; start += 10) {
    await clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: bodies.slice(start, start + 10).map((body, index) => ({
          Id: String(index),
          MessageBody: body,
          MessageAttributes: { kind: { DataType: 'String', StringValue: 'test' } },
        })),
      }),
    );
  }
}

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse | undefined>;

function poller(
  queue: { url: string; arn: string },
  handler: Handler,
  options: Partial<SqsPollerOptions> = {},
): { poller: SqsPoller; reports: BatchReport[] } {
  const reports: BatchReport[] = [];
  const p = new SqsPoller({
    sqs: clients.sqs,
    queueUrl: queue.url,
    queueArn: queue.arn,
    region: REGION,
    handler,
    functionName: 'test-worker',
    timeoutSeconds: 5,
    waitTimeSeconds: 1,
    reportBatchItemFailures: true,
    onBatch: (report) => reports.push(report),
    ...options,
  });
  pollers.push(p.start());
  return { poller: p, reports };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await sleep(50);
  }
}

/** Deliveries seen by a handler, by body. */
function tally() {
  const seen = new Map<string, number[]>();
  const record = (event: SQSEvent) => {
    for (const r of event.Records) {
      seen.set(r.body, [...(seen.get(r.body) ?? []), Number(r.attributes.ApproximateReceiveCount)]);
    }
  };
  return { seen, record };
}

describe('SqsPoller against moto', () => {
  it('builds a Lambda-shaped event and context', async () => {
    const queue = await makeQueue();
    let captured: { event: SQSEvent; context: Context; remaining: number } | undefined;
    poller(queue, async (event, context) => {
      captured = { event, context, remaining: context.getRemainingTimeInMillis() };
      return { batchItemFailures: [] };
    });
    await send(queue.url, ['hello']);
    await until(() => captured !== undefined);
    const record = captured?.event.Records[0];
    expect(record).toMatchObject({
      body: 'hello',
      eventSource: 'aws:sqs',
      eventSourceARN: queue.arn,
      awsRegion: REGION,
      attributes: { ApproximateReceiveCount: '1' },
      messageAttributes: { kind: { dataType: 'String', stringValue: 'test' } },
    });
    expect(record?.md5OfBody).toMatch(/^[0-9a-f]{32}$/);
    expect(Number(record?.attributes.SentTimestamp)).toBeGreaterThan(0);
    expect(Number(record?.attributes.ApproximateFirstReceiveTimestamp)).toBeGreaterThan(0);
    expect(captured?.context.functionName).toBe('test-worker');
    expect(captured?.context.awsRequestId).toMatch(/[0-9a-f-]{36}/);
    expect(captured?.remaining).toBeGreaterThan(4000);
    expect(captured?.remaining).toBeLessThanOrEqual(5000);
  });

  it('deletes only the records a partial batch response does not name', async () => {
    // Longer than the batching window, or a gathered message would come back within its own batch.
    const queue = await makeQueue({ visibility: 2 });
    const { seen, record } = tally();
    const { reports } = poller(
      queue,
      async (event) => {
        record(event);
        const failures = event.Records.filter(
          (r) => r.body.startsWith('bad') && r.attributes.ApproximateReceiveCount === '1',
        );
        return { batchItemFailures: failures.map((r) => ({ itemIdentifier: r.messageId })) };
      },
      { batchSize: 10, maximumBatchingWindowSeconds: 1 },
    );
    await send(queue.url, ['good-1', 'bad-1', 'good-2', 'bad-2', 'good-3']);
    await until(() => seen.get('bad-1')?.length === 2 && seen.get('bad-2')?.length === 2);
    await until(async () => (await queue.depth()).hidden === 0);
    expect(seen.get('good-1')).toEqual([1]);
    expect(seen.get('good-2')).toEqual([1]);
    expect(seen.get('good-3')).toEqual([1]);
    expect(seen.get('bad-1')).toEqual([1, 2]);
    expect(await queue.depth()).toEqual({ visible: 0, hidden: 0 });
    expect(reports[0]?.outcome).toBe('partial');
  });

  it('deletes nothing when the handler throws, and everything when it returns without ReportBatchItemFailures', async () => {
    const queue = await makeQueue({ visibility: 2 });
    const { seen, record } = tally();
    const { reports } = poller(
      queue,
      async (event) => {
        record(event);
        if (event.Records.some((r) => r.attributes.ApproximateReceiveCount === '1')) throw new Error('boom');
        // Ignored without ReportBatchItemFailures: a normal return finishes the whole batch.
        return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
      },
      { batchSize: 10, maximumBatchingWindowSeconds: 1, reportBatchItemFailures: false },
    );
    await send(queue.url, ['a', 'b', 'c']);
    await until(() => ['a', 'b', 'c'].every((body) => seen.get(body)?.length === 2));
    await until(async () => (await queue.depth()).hidden === 0);
    expect(await queue.depth()).toEqual({ visible: 0, hidden: 0 });
    expect(reports.map((r) => r.outcome)).toContain('error');
    expect(reports.at(-1)?.outcome).toBe('success');
  });

  it('fails the whole batch when a response names an unknown record', async () => {
    const queue = await makeQueue({ visibility: 1 });
    const { seen, record } = tally();
    poller(queue, async (event) => {
      record(event);
      const first = event.Records[0]?.attributes.ApproximateReceiveCount === '1';
      return { batchItemFailures: first ? [{ itemIdentifier: 'not-in-this-batch' }] : [] };
    });
    await send(queue.url, ['x']);
    await until(() => seen.get('x')?.length === 2);
    await until(async () => (await queue.depth()).hidden === 0);
  });

  it('sends a record that always fails to the DLQ after maxReceiveCount receives, never to the handler again', async () => {
    const queue = await makeQueue({ visibility: 1, maxReceiveCount: 2 });
    const { seen, record } = tally();
    poller(queue, async (event) => {
      record(event);
      const poison = event.Records.filter((r) => r.body === 'poison');
      return { batchItemFailures: poison.map((r) => ({ itemIdentifier: r.messageId })) };
    });
    await send(queue.url, ['poison', 'fine']);
    await until(async () => (await queue.depth(queue.dlqUrl)).visible === 1);
    // Past another visibility timeout: the handler must still have seen it exactly twice.
    await sleep(1500);
    expect(seen.get('poison')).toEqual([1, 2]);
    expect(seen.get('fine')).toEqual([1]);
    const dead = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queue.dlqUrl, MaxNumberOfMessages: 10 }),
    );
    expect(dead.Messages?.map((m) => m.Body)).toEqual(['poison']);
    expect(await queue.depth()).toEqual({ visible: 0, hidden: 0 });
  });

  it('respects the batch size', async () => {
    const queue = await makeQueue({ visibility: 30 });
    const sizes: number[] = [];
    await send(
      queue.url,
      Array.from({ length: 23 }, (_, i) => `m${i}`),
    );
    poller(
      queue,
      async (event) => {
        sizes.push(event.Records.length);
        return undefined;
      },
      { batchSize: 4 },
    );
    await until(() => sizes.reduce((a, b) => a + b, 0) === 23);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
  });

  it('gathers past one receive up to the batch size within the batching window', async () => {
    const queue = await makeQueue({ visibility: 30 });
    await send(
      queue.url,
      Array.from({ length: 25 }, (_, i) => `m${i}`),
    );
    // One poller: five would share the 25 between their batches, as Lambda's do.
    const { reports } = poller(queue, async () => undefined, {
      batchSize: 100,
      maximumBatchingWindowSeconds: 2,
      pollers: 1,
    });
    await until(() => reports.length > 0);
    expect(reports[0]?.messageIds).toHaveLength(25);
  });

  it('waits out the batching window before invoking with a short batch', async () => {
    const queue = await makeQueue({ visibility: 30 });
    const { poller: p, reports } = poller(queue, async () => undefined, {
      batchSize: 50,
      maximumBatchingWindowSeconds: 2,
      pollers: 1,
    });
    const sentAt = Date.now();
    await send(queue.url, ['one', 'two']);
    await sleep(500);
    await send(queue.url, ['three']);
    await until(() => reports.length > 0);
    expect(reports[0]?.messageIds).toHaveLength(3);
    expect((reports[0]?.startedAt ?? 0) - sentAt).toBeGreaterThanOrEqual(1900);
    expect(p.stats.receives).toBeLessThanOrEqual(6);
  });

  it('never runs more than maxConcurrency invocations at once', async () => {
    const queue = await makeQueue({ visibility: 30 });
    let running = 0;
    let peak = 0;
    let done = 0;
    await send(
      queue.url,
      Array.from({ length: 24 }, (_, i) => `m${i}`),
    );
    const { poller: p } = poller(
      queue,
      async (event) => {
        running++;
        peak = Math.max(peak, running);
        await sleep(150);
        running--;
        done += event.Records.length;
        return undefined;
      },
      { batchSize: 2, maxConcurrency: 3 },
    );
    await until(() => done === 24);
    expect(peak).toBe(3);
    expect(p.stats.peakConcurrency).toBe(3);
  });

  it('stops gracefully: running invocations finish and delete, messages held for a batch go back', async () => {
    const queue = await makeQueue({ visibility: 30 });
    const finished: string[] = [];
    let started = 0;
    await send(
      queue.url,
      Array.from({ length: 20 }, (_, i) => `m${i}`),
    );
    const { poller: p } = poller(
      queue,
      async (event) => {
        started++;
        await sleep(400);
        finished.push(...event.Records.map((r) => r.body));
        return undefined;
      },
      { batchSize: 5, maxConcurrency: 2 },
    );
    await until(() => started >= 2);
    const stats = await p.stop();
    expect(stats.inFlight).toBe(0);
    expect(stats.deleted).toBe(finished.length);
    const depth = await queue.depth();
    // Visibility is 30 s: anything not finished and not released would show as hidden.
    expect(depth.hidden).toBe(0);
    expect(depth.visible + finished.length).toBe(20);

    const windowQueue = await makeQueue({ visibility: 30 });
    const { poller: held, reports } = poller(windowQueue, async () => undefined, {
      batchSize: 50,
      maximumBatchingWindowSeconds: 5,
    });
    await send(windowQueue.url, ['a', 'b', 'c']);
    await until(async () => (await windowQueue.depth()).hidden === 3);
    const heldStats = await held.stop();
    expect(reports).toHaveLength(0);
    expect(heldStats.released).toBe(3);
    expect(await windowQueue.depth()).toEqual({ visible: 3, hidden: 0 });
  });

  it('counts a run past the function timeout as failed: nothing deleted', async () => {
    const queue = await makeQueue({ visibility: 1 });
    const { reports } = poller(
      queue,
      async (event) => {
        if (event.Records[0]?.attributes.ApproximateReceiveCount === '1') await sleep(1500);
        return undefined;
      },
      { timeoutSeconds: 1 },
    );
    await send(queue.url, ['slow']);
    await until(() => reports.length === 2, 10_000);
    expect(reports.map((r) => r.outcome)).toEqual(['timeout', 'success']);
  });

  it('counts an answer that comes after the timeout (a blocked event loop) as a timeout', async () => {
    const queue = await makeQueue({ visibility: 1 });
    const { reports } = poller(
      queue,
      async (event) => {
        // Blocks past the timeout, so the poller's timer cannot fire before the answer is ready.
        if (event.Records[0]?.attributes.ApproximateReceiveCount === '1') {
          for (const end = Date.now() + 1500; Date.now() < end; );
        }
        return undefined;
      },
      { timeoutSeconds: 1 },
    );
    await send(queue.url, ['blocking']);
    await until(() => reports.length === 2, 10_000);
    expect(reports.map((r) => r.outcome)).toEqual(['timeout', 'success']);
  });

  it('gives up a crashed invocation at once: nothing deleted, and nothing it sends later goes out', async () => {
    const queue = await makeQueue({ visibility: 1 });
    let late: unknown;
    const { reports } = poller(queue, async (event) => {
      if (event.Records[0]?.attributes.ApproximateReceiveCount === '1') {
        // Code of the dead invocation that still runs in-process: its request must be refused.
        setTimeout(() => {
          clients.sqs.send(new GetQueueAttributesCommand({ QueueUrl: queue.url })).then(
            () => (late = 'sent'),
            (error: unknown) => (late = error),
          );
        }, 100);
        await crashInvocation('the test pulled the plug');
      }
      return undefined;
    });
    await send(queue.url, ['fragile']);
    await until(() => reports.length === 2);
    expect(reports.map((r) => r.outcome)).toEqual(['crash', 'success']);
    expect(reports[0]?.cause).toBe('the invocation crashed: the test pulled the plug');
    expect(reports[0]?.returned.map((r) => r.body)).toEqual(['fragile']);
    await until(() => late !== undefined);
    expect(late).toBeInstanceOf(InvocationAbandoned);
    expect(await queue.depth()).toEqual({ visible: 0, hidden: 0 });
  });
});
