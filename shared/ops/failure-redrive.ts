import {
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { createBeatSync } from '../app.ts';
import type { AwsClients } from '../aws/clients.ts';
import { renderInput } from '../beat/schedule-input.ts';
import { createLogger } from '../log.ts';
import type { OpsContext } from './context.ts';
import { describeDeadLetter, type RedriveReport } from './dead-letters.ts';
import type { FailureQueue } from './failure-queues.ts';
import { release } from './queues.ts';

/** Held while a redrive works through them, so a receive never brings the same message twice. */
const HOLD_SECONDS = 900;
/** At most this many failure records are taken in one beat-sync retry. */
const MAX_RECORDS = 1000;

async function receive(sqs: SQSClient, url: string, max: number): Promise<Message[]> {
  const { Messages = [] } = await sqs.send(
    new ReceiveMessageCommand({
      QueueUrl: url,
      MaxNumberOfMessages: Math.min(10, max),
      VisibilityTimeout: HOLD_SECONDS,
      WaitTimeSeconds: 1,
      MessageSystemAttributeNames: ['All'],
      MessageAttributeNames: ['All'],
    }),
  );
  return Messages;
}

async function remove(sqs: SQSClient, url: string, messages: readonly Message[]): Promise<void> {
  for (let i = 0; i < messages.length; i += 10) {
    await sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: messages
          .slice(i, i + 10)
          .map((m, index) => ({ Id: String(index), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}

/**
 * The Scheduler's DLQ holds target inputs it could not deliver; StartMessageMoveTask cannot send
 * them back (their source is no queue). So each input is sent to its target, as the Scheduler
 * would have, when that target is one of this stack's task queues; placeholders left in it are
 * filled from the message's `EXECUTION_ID`, so the task id is the failed delivery's (a run that
 * did happen meanwhile is not repeated: the worker's claim refuses a finished id). A message whose
 * target is unknown, or whose send fails, stays in the DLQ and is reported.
 */
export async function resendSchedulerDeadLetters(
  ctx: OpsContext,
  dlq: FailureQueue,
  options: { limit?: number } = {},
): Promise<RedriveReport> {
  const { sqs } = ctx.clients;
  const byArn = new Map(Object.values(ctx.config.queues).map((q) => [q.arn, q.url]));
  const limit = options.limit ?? Number.POSITIVE_INFINITY;
  const kept: Message[] = [];
  const problems: string[] = [];
  let moved = 0;
  try {
    while (moved + kept.length < limit) {
      const messages = await receive(sqs, dlq.url, limit - moved - kept.length);
      if (messages.length === 0) break;
      const sent: Message[] = [];
      for (const message of messages) {
        const letter = describeDeadLetter('scheduler', message);
        const targetArn = letter.scheduler?.targetArn;
        const url = targetArn ? byArn.get(targetArn) : undefined;
        if (!url) {
          kept.push(message);
          problems.push(`${letter.messageId}: its target ${targetArn ?? '(none)'} is no task queue here`);
          continue;
        }
        const body = message.Body ?? '{}';
        const input = letter.scheduler?.executionId
          ? renderInput(body, {
              executionId: letter.scheduler.executionId,
              scheduledTime: new Date(letter.sentAt ?? Date.now()),
            })
          : body;
        try {
          await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: input }));
          sent.push(message);
        } catch (error) {
          kept.push(message);
          problems.push(`${letter.messageId}: ${(error as Error).message}`);
        }
      }
      await remove(sqs, dlq.url, sent);
      moved += sent.length;
    }
  } finally {
    await release(sqs, dlq.url, kept);
  }
  return {
    queue: dlq.name,
    strategy: 'resend',
    moved,
    failed: kept.length,
    ...(problems.length ? { problems } : {}),
  };
}

/**
 * The beat-sync failure queue holds records of stream batches, not the changes themselves (a
 * stream keeps records for 24 hours only): what they ask for is that the schedules match the
 * table again. So this runs the beat sync's reconcile (the whole table against the schedule
 * group, with the caller's credentials) and deletes the records it held only when every periodic
 * task was applied; otherwise they stay and the failures are reported.
 */
export async function retryBeatSyncFailures(ctx: OpsContext, dlq: FailureQueue): Promise<RedriveReport> {
  const { sqs } = ctx.clients;
  const held: Message[] = [];
  let done = false;
  try {
    while (held.length < MAX_RECORDS) {
      const messages = await receive(sqs, dlq.url, MAX_RECORDS - held.length);
      if (messages.length === 0) break;
      held.push(...messages);
    }
    if (held.length === 0) return { queue: dlq.name, strategy: 'reconcile', moved: 0, failed: 0 };
    const sync = createBeatSync({
      config: ctx.config,
      clients: ctx.clients as AwsClients,
      registry: ctx.registry,
      // What failed is in the report; log lines would land in the caller's stdout.
      logger: createLogger({}, { write: () => undefined }),
    });
    const report = await sync.reconcile();
    done = report.failed.length === 0;
    if (done) await remove(sqs, dlq.url, held);
    return {
      queue: dlq.name,
      strategy: 'reconcile',
      moved: done ? held.length : 0,
      failed: done ? 0 : held.length,
      reconcile: {
        checked: report.checked,
        created: report.created.length,
        updated: report.updated.length,
        deleted: report.deleted.length,
        invalid: report.invalid.length,
      },
      ...(report.failed.length ? { problems: report.failed.map((f) => `${f.name}: ${f.error}`) } : {}),
    };
  } finally {
    if (!done) await release(sqs, dlq.url, held);
  }
}
