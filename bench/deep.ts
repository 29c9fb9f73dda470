/**
 * The local cloud at depth, tried as a user would: every task enqueued first, then the workers
 * started, and the queue drained to its last stored result. Beside the rate, what one SQS call
 * costs the emulator with the whole backlog queued.
 */
import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { startLocalCloud } from '../localstack/local-cloud.ts';

export interface DeepQueueFigures {
  tasks: number;
  /** Enqueue of the whole backlog, tasks/s. */
  enqueueRate: number;
  /** From the workers' start to the last result stored, tasks/s. */
  drainRate: number;
  /** Medians of the probes made with the backlog queued. */
  receiveDeleteMs: number;
  sendBatchMs: number;
  peakConcurrency: number;
}

const TASK = 'apps.demo.tasks.noop';
const PROBES = 15;

const median = (values: number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? Number.NaN;

/**
 * Receive and delete ten of the queued tasks, then send the same ten back as a batch (same bodies
 * and attributes, so the same tasks): the queue keeps its depth and no task is lost.
 */
async function probe(
  sqs: SQSClient,
  queueUrl: string,
): Promise<{ receiveDeleteMs: number; sendBatchMs: number }> {
  const receiveDelete: number[] = [];
  const sendBatch: number[] = [];
  for (let i = 0; i < PROBES; i++) {
    let t0 = performance.now();
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: queueUrl,
        MaxNumberOfMessages: 10,
        MessageAttributeNames: ['All'],
      }),
    );
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m, index) => ({
          Id: String(index),
          ReceiptHandle: m.ReceiptHandle as string,
        })),
      }),
    );
    receiveDelete.push(performance.now() - t0);
    t0 = performance.now();
    await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: queueUrl,
        Entries: Messages.map((m: Message, index) => ({
          Id: String(index),
          MessageBody: m.Body as string,
          ...(m.MessageAttributes ? { MessageAttributes: m.MessageAttributes } : {}),
        })),
      }),
    );
    sendBatch.push(performance.now() - t0);
  }
  return { receiveDeleteMs: median(receiveDelete), sendBatchMs: median(sendBatch) };
}

export async function measureDeepQueue(tasks: number): Promise<DeepQueueFigures> {
  let done = 0;
  let wake: (() => void) | undefined;
  const cloud = await startLocalCloud({
    logLevel: 'silent',
    streams: false,
    clock: false,
    overrides: { waitTimeSeconds: 1 },
    onBatch: (_worker, report) => {
      done += report.messageIds.length - report.failed.length;
      wake?.();
    },
  });
  try {
    // Workers off while the backlog is written, as when a user enqueues before starting them.
    await Promise.all(cloud.workers.map((w) => w.poller.stop()));
    const queueUrl = cloud.config.queues.default?.url as string;
    const calls = Array.from({ length: tasks }, (_, i) => ({ task: TASK, args: [], kwargs: { i } }));
    let t0 = performance.now();
    const sent = await cloud.producer.sendMany(calls);
    const enqueueRate = tasks / ((performance.now() - t0) / 1000);
    const costs = await probe(cloud.clients.sqs, queueUrl);
    t0 = performance.now();
    for (const w of cloud.workers) w.poller.start();
    while (done < tasks) await new Promise<void>((resolve) => (wake = resolve));
    const drainRate = tasks / ((performance.now() - t0) / 1000);
    const last = await cloud.store.get(sent[sent.length - 1]?.taskId as string);
    if (last?.status !== 'SUCCESS')
      throw new Error(`the last task's result reads ${last?.status ?? 'nothing'}`);
    const peakConcurrency = Math.max(...cloud.workers.map((w) => w.poller.stats.peakConcurrency));
    return { tasks, enqueueRate, drainRate, ...costs, peakConcurrency };
  } finally {
    await cloud.stop();
  }
}
