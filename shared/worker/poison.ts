import { ChangeMessageVisibilityBatchCommand, type SQSClient } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import type { CelerityConfig } from '../config/config.ts';
import type { Logger } from '../log.ts';

/**
 * Brings poison messages back soon instead of after the queue's visibility timeout (six times the
 * function's, half an hour and more), so they reach the DLQ after `maxReceiveCount` receives in
 * minutes rather than hours. Best effort: if this fails, they simply come back later.
 */
export async function hastenPoison(
  sqs: SQSClient,
  config: CelerityConfig,
  records: readonly SQSRecord[],
  log: Logger,
): Promise<void> {
  const byQueue = new Map<string, SQSRecord[]>();
  for (const record of records) {
    const url = Object.values(config.queues).find((q) => q.arn === record.eventSourceARN)?.url;
    if (url) byQueue.set(url, [...(byQueue.get(url) ?? []), record]);
  }
  await Promise.all(
    [...byQueue].flatMap(([url, list]) =>
      chunks(list, 10).map((chunk) =>
        sqs
          .send(
            new ChangeMessageVisibilityBatchCommand({
              QueueUrl: url,
              Entries: chunk.map((record, index) => ({
                Id: String(index),
                ReceiptHandle: record.receiptHandle,
                VisibilityTimeout: config.poisonRetryDelay,
              })),
            }),
          )
          .catch((error: Error) => log.warn('could not hasten poison messages', { error: error.message })),
      ),
    ),
  );
}

function chunks<T>(list: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < list.length; i += size) out.push(list.slice(i, i + size));
  return out;
}
