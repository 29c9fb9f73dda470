import { setTimeout as sleep } from 'node:timers/promises';
import { BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { BatchWriteIncompleteError } from './errors.ts';

/** BatchWriteItem's ceiling. */
export const BATCH_WRITE_LIMIT = 25;

/** One item of a BatchWriteItem: a put or a delete, as the DocumentClient takes them. */
export type WriteRequest =
  | { PutRequest: { Item: Record<string, unknown> } }
  | { DeleteRequest: { Key: Record<string, unknown> } };

export interface BatchWriteOptions {
  /** Batches in flight at once. @defaultValue 8 */
  concurrency?: number;
  /** Sends of one batch before its unprocessed items are given up. @defaultValue 10 */
  maxAttempts?: number;
  /** Stops starting new batches once aborted (a task's soft limit); batches in flight finish. */
  signal?: AbortSignal;
}

/**
 * Writes every request in batches of 25, several batches in flight, sending each batch's
 * `UnprocessedItems` again with exponential backoff and jitter (DynamoDB's own advice: what it
 * leaves unprocessed is throttled, and resending at once is throttled again). Returns how many
 * requests were written. The requests must not repeat a key: DynamoDB refuses such a batch.
 */
export async function batchWrite(
  dynamo: DynamoDBDocumentClient,
  table: string,
  requests: readonly WriteRequest[],
  options: BatchWriteOptions = {},
): Promise<number> {
  const concurrency = options.concurrency ?? 8;
  const maxAttempts = options.maxAttempts ?? 10;
  const batches: WriteRequest[][] = [];
  for (let i = 0; i < requests.length; i += BATCH_WRITE_LIMIT) {
    batches.push(requests.slice(i, i + BATCH_WRITE_LIMIT));
  }
  let next = 0;
  let written = 0;
  let unprocessed = 0;
  const lane = async () => {
    while (next < batches.length && !options.signal?.aborted) {
      const batch = batches[next++] as WriteRequest[];
      const left = await writeOne(dynamo, table, batch, maxAttempts);
      written += batch.length - left;
      unprocessed += left;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, batches.length) }, lane));
  if (unprocessed > 0) throw new BatchWriteIncompleteError(table, unprocessed, written);
  return written;
}

/** Sends one batch until DynamoDB has taken all of it; returns how many it never took. */
async function writeOne(
  dynamo: DynamoDBDocumentClient,
  table: string,
  batch: WriteRequest[],
  maxAttempts: number,
): Promise<number> {
  let pending = batch;
  for (let attempt = 0; attempt < maxAttempts && pending.length > 0; attempt++) {
    if (attempt > 0) await sleep(Math.random() * Math.min(2000, 50 * 2 ** attempt));
    const response = await dynamo.send(new BatchWriteCommand({ RequestItems: { [table]: pending } }));
    pending = (response.UnprocessedItems?.[table] ?? []) as WriteRequest[];
  }
  return pending.length;
}
