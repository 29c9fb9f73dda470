import {
  ChangeMessageVisibilityBatchCommand,
  GetQueueAttributesCommand,
  GetQueueUrlCommand,
  type Message,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { CelerityConfig, QueueTarget } from '../config/config.ts';
import type { OpsContext } from './context.ts';
import { NotFoundError } from './errors.ts';
import { scheduledCounts } from './scheduled.ts';

export interface QueueCounts {
  url: string;
  /** Waiting to be received. */
  visible: number;
  /** Received by a worker and not yet deleted. */
  inFlight: number;
  /** Sent with a delay (countdown) that has not passed. */
  delayed: number;
}

/** A queue's counts with its ARN: with `url`, what a producer (or an IAM policy) needs of it. */
export interface LocatedQueueCounts extends QueueCounts {
  arn: string;
}

export interface QueueDepth extends LocatedQueueCounts {
  queue: string;
  /**
   * Sends waiting in one-time Scheduler schedules (an eta or countdown past SQS's 15 minutes):
   * on no queue yet, so SQS's counts leave them out.
   */
  scheduled: number;
  dlq?: LocatedQueueCounts;
}

/** A route queue by name; `NotFound` lists the names there are. */
export function routeQueue(config: CelerityConfig, queue: string): QueueTarget {
  const target = config.queues[queue];
  if (!target) {
    throw new NotFoundError('queue', queue, `known: ${Object.keys(config.queues).join(', ') || 'none'}`);
  }
  return target;
}

const COUNT_ATTRIBUTES = [
  'ApproximateNumberOfMessages',
  'ApproximateNumberOfMessagesNotVisible',
  'ApproximateNumberOfMessagesDelayed',
] as const;

export async function queueCounts(sqs: SQSClient, url: string): Promise<QueueCounts> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: [...COUNT_ATTRIBUTES] }),
  );
  return {
    url,
    visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
    inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
    delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
  };
}

/** A queue's URL from its ARN (`arn:aws:sqs:region:account:name`). */
export async function queueUrlOfArn(sqs: SQSClient, arn: string): Promise<string | undefined> {
  const [, , , , account, name] = arn.split(':');
  if (!name) return undefined;
  const { QueueUrl } = await sqs.send(
    new GetQueueUrlCommand({ QueueName: name, ...(account ? { QueueOwnerAWSAccountId: account } : {}) }),
  );
  return QueueUrl;
}

/**
 * A queue's dead-letter queue, read from its redrive policy: the queue itself says where its
 * failures go, so the configuration need not (and cannot drift from the stack's).
 */
export async function deadLetterQueueOf(
  sqs: SQSClient,
  url: string,
): Promise<{ url: string; arn: string; maxReceiveCount?: number } | undefined> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['RedrivePolicy'] }),
  );
  if (!Attributes.RedrivePolicy) return undefined;
  const policy = JSON.parse(Attributes.RedrivePolicy) as {
    deadLetterTargetArn?: string;
    maxReceiveCount?: unknown;
  };
  const arn = policy.deadLetterTargetArn;
  if (!arn) return undefined;
  const QueueUrl = await queueUrlOfArn(sqs, arn);
  if (!QueueUrl) return undefined;
  const maxReceiveCount = Number(policy.maxReceiveCount);
  return { url: QueueUrl, arn, ...(Number.isFinite(maxReceiveCount) ? { maxReceiveCount } : {}) };
}

/**
 * Flower's broker page: every route queue's depth, its scheduled sends, and its DLQ's depth, each
 * with its URL and ARN (`celerity inspect queues --json` is where a foreign producer finds them).
 */
export async function queueDepths(ctx: OpsContext): Promise<QueueDepth[]> {
  const { sqs } = ctx.clients;
  const scheduled = await scheduledCounts(ctx);
  return Promise.all(
    Object.entries(ctx.config.queues).map(async ([queue, target]) => {
      const [counts, dlq] = await Promise.all([
        queueCounts(sqs, target.url),
        deadLetterQueueOf(sqs, target.url),
      ]);
      return {
        queue,
        ...counts,
        arn: target.arn,
        scheduled: scheduled[queue] ?? 0,
        ...(dlq ? { dlq: { ...(await queueCounts(sqs, dlq.url)), arn: dlq.arn } } : {}),
      };
    }),
  );
}

/** Makes held messages visible again at once (a peek, or what could not be moved). */
export async function release(sqs: SQSClient, url: string, messages: readonly Message[]): Promise<void> {
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
