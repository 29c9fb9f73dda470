import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  type SQSClient,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { ValidationError } from '../errors.ts';
import type { OpsContext } from './context.ts';
import { NotFound } from './errors.ts';
import { deadLetterQueueOf, queueCounts, routeQueue } from './queues.ts';
import { resultStore } from './tasks.ts';

export interface DeadLetter {
  messageId: string;
  taskId?: string;
  task?: string;
  /** Receives so far, from the source queue and this peek included. */
  receiveCount: number;
  sentAt?: string;
  bytes: number;
  /** Why it never ran, as the worker recorded it (for a poison message, or a run that kept failing). */
  status?: string;
  errorType?: string;
  /** The body, when it is not a readable envelope. */
  body?: string;
}

/** How long peeked messages are held, so successive receives page through distinct ones. */
const PEEK_HOLD_SECONDS = 30;
const MAX_PEEK = 100;

async function dlqFor(ctx: OpsContext, queue: string) {
  const source = routeQueue(ctx.config, queue);
  const dlq = await deadLetterQueueOf(ctx.clients.sqs, source.url);
  if (!dlq) throw new NotFound('dead-letter queue', queue, 'this queue has no redrive policy');
  return { source, dlq };
}

function describe(message: Message): DeadLetter {
  const body = message.Body ?? '';
  let envelope: { id?: unknown; task?: unknown } | undefined;
  try {
    envelope = JSON.parse(body);
  } catch {
    envelope = undefined;
  }
  const sent = Number(message.Attributes?.SentTimestamp);
  const readable = envelope && typeof envelope === 'object';
  return {
    messageId: message.MessageId ?? '',
    ...(readable && typeof envelope?.id === 'string' ? { taskId: envelope.id } : {}),
    ...(readable && typeof envelope?.task === 'string' ? { task: envelope.task } : {}),
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    ...(Number.isFinite(sent) ? { sentAt: new Date(sent).toISOString() } : {}),
    bytes: Buffer.byteLength(body),
    ...(readable ? {} : { body: body.slice(0, 200) }),
  };
}

async function release(sqs: SQSClient, url: string, messages: readonly Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    await sqs.send(
      new ChangeMessageVisibilityBatchCommand({
        QueueUrl: url,
        Entries: messages.slice(i, i + 10).map((m, index) => ({
          Id: String(index),
          ReceiptHandle: m.ReceiptHandle,
          VisibilityTimeout: 0,
        })),
      }),
    );
  }
}

/**
 * Shows what sits in a route's DLQ without consuming it. SQS has no peek: messages are received
 * with a short hold (so each receive brings new ones) and then made visible again at once. A
 * receive counts, so each message's receive count goes up by one.
 */
export async function peekDeadLetters(
  ctx: OpsContext,
  queue: string,
  options: { limit?: number } = {},
): Promise<{ queue: string; url: string; approximateTotal: number; messages: DeadLetter[] }> {
  const limit = options.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PEEK) {
    throw ValidationError.of('limit', `must be a whole number from 1 to ${MAX_PEEK} (got ${limit})`);
  }
  const { sqs } = ctx.clients;
  const { dlq } = await dlqFor(ctx, queue);
  const counts = await queueCounts(sqs, dlq.url);
  const held: Message[] = [];
  try {
    while (held.length < limit) {
      const { Messages = [] } = await sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: dlq.url,
          MaxNumberOfMessages: Math.min(10, limit - held.length),
          VisibilityTimeout: PEEK_HOLD_SECONDS,
          WaitTimeSeconds: 1,
          MessageSystemAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) break;
      held.push(...Messages);
    }
  } finally {
    await release(sqs, dlq.url, held);
  }
  const messages = held.map(describe);
  if (ctx.config.resultsTable) {
    const store = resultStore(ctx);
    await Promise.all(
      messages.map(async (m) => {
        if (!m.taskId) return;
        const record = await store.get(m.taskId).catch(() => undefined);
        if (record)
          Object.assign(m, {
            status: record.status,
            ...(record.errorType ? { errorType: record.errorType } : {}),
          });
      }),
    );
  }
  return { queue, url: dlq.url, approximateTotal: counts.visible, messages };
}

export type RedriveStrategy = 'move-task' | 'copy';

export interface RedriveReport {
  queue: string;
  strategy: RedriveStrategy;
  /** Messages moved back (copy), or the DLQ's approximate count when the move task started. */
  moved: number;
  failed: number;
  /** The SQS move task, with `move-task`. */
  taskHandle?: string;
}

/**
 * Sends a route's dead letters back to its queue. `move-task` asks SQS to do it
 * (StartMessageMoveTask, asynchronous, the way the console does); `copy` receives, sends and
 * deletes in batches of ten (works on emulators without move tasks, and counts exactly). A message
 * is deleted from the DLQ only once its copy was sent.
 */
export async function redriveDeadLetters(
  ctx: OpsContext,
  queue: string,
  options: { strategy?: RedriveStrategy; limit?: number } = {},
): Promise<RedriveReport> {
  const { sqs } = ctx.clients;
  const { source, dlq } = await dlqFor(ctx, queue);
  const strategy = options.strategy ?? 'move-task';
  if (strategy === 'move-task') {
    const counts = await queueCounts(sqs, dlq.url);
    const { TaskHandle } = await sqs.send(
      new StartMessageMoveTaskCommand({ SourceArn: dlq.arn, DestinationArn: source.arn }),
    );
    return {
      queue,
      strategy,
      moved: counts.visible,
      failed: 0,
      ...(TaskHandle ? { taskHandle: TaskHandle } : {}),
    };
  }
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  let moved = 0;
  let failed = 0;
  while (moved + failed < limit) {
    const { Messages = [] } = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: dlq.url,
        MaxNumberOfMessages: Math.min(10, limit - moved - failed),
        VisibilityTimeout: 60,
        WaitTimeSeconds: 1,
        MessageAttributeNames: ['All'],
      }),
    );
    if (Messages.length === 0) break;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: source.url,
        Entries: Messages.map((m, index) => ({
          Id: String(index),
          MessageBody: m.Body ?? '',
          ...(m.MessageAttributes && Object.keys(m.MessageAttributes).length
            ? { MessageAttributes: m.MessageAttributes }
            : {}),
        })),
      }),
    );
    const ok = (sent.Successful ?? []).map((s) => Messages[Number(s.Id)] as Message);
    const notSent = Messages.filter((m) => !ok.includes(m));
    if (ok.length) {
      await sqs.send(
        new DeleteMessageBatchCommand({
          QueueUrl: dlq.url,
          Entries: ok.map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle })),
        }),
      );
    }
    // What could not be sent stays in the DLQ, visible again for the next try.
    if (notSent.length) await release(sqs, dlq.url, notSent);
    moved += ok.length;
    failed += notSent.length;
    if (notSent.length) break;
  }
  return { queue, strategy, moved, failed };
}
