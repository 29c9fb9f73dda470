import {
  DeleteMessageBatchCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  StartMessageMoveTaskCommand,
} from '@aws-sdk/client-sqs';
import { isAwsError } from '../aws/errors.ts';
import { ValidationError } from '../errors.ts';
import { READY_STATES } from '../task/states.ts';
import type { OpsContext } from './context.ts';
import {
  type DeadLetter,
  describeDeadLetter,
  type RedriveReport,
  type RedriveStrategy,
  taskReason,
} from './dead-letters.ts';
import { OperationFailed } from './errors.ts';
import { type FailureQueue, type FailureQueueKind, failureQueue } from './failure-queues.ts';
import { resendSchedulerDeadLetters, retryBeatSyncFailures } from './failure-redrive.ts';
import { queueCounts, release, routeQueue } from './queues.ts';
import { resultStore } from './tasks.ts';

/** How long peeked messages are held, so successive receives page through distinct ones. */
const PEEK_HOLD_SECONDS = 30;
const MAX_PEEK = 100;

/**
 * Shows what sits in a failure queue without consuming it: a route's DLQ, the Scheduler's DLQ
 * (`scheduler`) or the beat-sync failure queue (`beat-sync`), each message with its reason. SQS has
 * no peek: messages are received with a short hold (so each receive brings new ones) and then
 * made visible again at once. A receive counts, so each message's receive count goes up by one.
 */
export async function peekDeadLetters(
  ctx: OpsContext,
  queue: string,
  options: { limit?: number } = {},
): Promise<{
  queue: string;
  kind: FailureQueueKind;
  url: string;
  approximateTotal: number;
  messages: DeadLetter[];
}> {
  const limit = options.limit ?? 10;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PEEK) {
    throw ValidationError.of('limit', `must be a whole number from 1 to ${MAX_PEEK} (got ${limit})`);
  }
  const { sqs } = ctx.clients;
  const dlq = await failureQueue(ctx, queue);
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
          MessageAttributeNames: ['All'],
        }),
      );
      if (Messages.length === 0) break;
      held.push(...Messages);
    }
  } finally {
    await release(sqs, dlq.url, held);
  }
  const messages = held.map((m) => describeDeadLetter(dlq.kind, m));
  if (dlq.kind === 'task') await withResults(ctx, messages);
  return { queue, kind: dlq.kind, url: dlq.url, approximateTotal: counts.visible, messages };
}

/** A task message's reason is its result row's: the FAILURE's error, or the run that never finished. */
async function withResults(ctx: OpsContext, messages: DeadLetter[]): Promise<void> {
  if (!ctx.config.resultsTable) return;
  const store = resultStore(ctx);
  await Promise.all(
    messages.map(async (m) => {
      if (!m.taskId) return;
      const record = await store.get(m.taskId).catch(() => undefined);
      if (!record) {
        m.reason = 'no result recorded: every delivery ended before the worker settled it (timeout or crash)';
        return;
      }
      Object.assign(m, {
        status: record.status,
        ...(record.errorType ? { errorType: record.errorType } : {}),
      });
      m.reason = READY_STATES.has(record.status)
        ? taskReason(record)
        : `${record.status}: its runs never finished (timeout or crash)`;
    }),
  );
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
  const dlq = await failureQueue(ctx, queue);
  const own = dlq.kind === 'task' ? undefined : dlq.kind === 'scheduler' ? 'resend' : 'reconcile';
  if (own && options.strategy !== undefined && options.strategy !== own) {
    throw ValidationError.of(
      'strategy',
      `the ${queue} queue is redriven only by ${own} (got ${options.strategy})`,
    );
  }
  if (dlq.kind === 'scheduler') return resendSchedulerDeadLetters(ctx, dlq, options);
  if (dlq.kind === 'beat-sync') return retryBeatSyncFailures(ctx, dlq);
  return redriveTaskDeadLetters(ctx, dlq, options);
}

async function redriveTaskDeadLetters(
  ctx: OpsContext,
  dlq: FailureQueue,
  options: { strategy?: RedriveStrategy; limit?: number },
): Promise<RedriveReport> {
  const { sqs } = ctx.clients;
  const queue = dlq.name;
  const source = dlq.source as NonNullable<FailureQueue['source']>;
  const strategy = options.strategy ?? 'move-task';
  if (strategy !== 'move-task' && strategy !== 'copy') {
    throw ValidationError.of('strategy', `must be move-task or copy for a task queue (got ${strategy})`);
  }
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

/**
 * Celery's `purge`: deletes every waiting message of one route queue, or of a failure queue
 * (a route's DLQ, `scheduler`, `beat-sync`). SQS allows
 * one purge a minute per queue and takes up to a minute to finish; messages in flight are spared.
 */
export async function purgeQueue(
  ctx: OpsContext,
  queue: string,
  options: { deadLetters?: boolean } = {},
): Promise<{ queue: string; url: string; approximateMessages: number }> {
  const url = options.deadLetters ? (await failureQueue(ctx, queue)).url : routeQueue(ctx.config, queue).url;
  const before = await queueCounts(ctx.clients.sqs, url);
  try {
    await ctx.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
  } catch (error) {
    // SQS allows one purge a minute: the caller's mistake to say, not a server fault.
    if (!isAwsError(error, 'PurgeQueueInProgress')) throw error;
    throw new OperationFailed(
      `${queue} was purged less than a minute ago; SQS allows one purge a minute`,
      {
        queue,
      },
      { cause: error },
    );
  }
  return { queue, url, approximateMessages: before.visible + before.delayed };
}
