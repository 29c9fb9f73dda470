import { randomUUID } from 'node:crypto';
import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import { isAwsError } from '../aws/errors.ts';
import { chunkBySize } from '../batches.ts';

type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

export type TransactOutcome =
  | { ok: true }
  | { ok: false; reason: 'condition'; old: Record<string, unknown> | undefined }
  | { ok: false; reason: 'error'; message: string };

/** DynamoDB's limits on one `TransactWriteItems`: 100 items, 4 MB (sizes counted in UTF-8 bytes). */
const MAX_ITEMS = 100;
const MAX_BYTES = 3_500_000;
const MAX_ROUNDS = 5;

/**
 * Writes many conditional items with as few `TransactWriteItems` calls as DynamoDB allows (100
 * items and 4 MB a call) and tells, per item, whether it was written or why not. A cancelled
 * transaction names the items whose condition failed; the rest are sent again without them.
 * Nothing here throws for the whole set: a transaction DynamoDB refuses whole (too large, one
 * item it cannot take) is split in two and each half sent again, and any other failure of a call
 * is the outcome of that call's items only.
 */
export async function transactWriteEach(
  dynamo: DynamoDBDocumentClient,
  items: readonly TransactItem[],
  sizes: readonly number[],
): Promise<TransactOutcome[]> {
  const outcomes: (TransactOutcome | undefined)[] = new Array(items.length);
  const chunks = chunkBySize(
    items.map((_, index) => index),
    (index) => sizes[index] ?? 0,
    MAX_ITEMS,
    MAX_BYTES,
  );

  await Promise.all(chunks.map((indexes) => writeChunk(dynamo, items, indexes, outcomes)));
  return outcomes.map((o) => o ?? { ok: false, reason: 'error', message: 'not attempted' });
}

async function writeChunk(
  dynamo: DynamoDBDocumentClient,
  items: readonly TransactItem[],
  indexes: readonly number[],
  outcomes: (TransactOutcome | undefined)[],
): Promise<void> {
  let pending = indexes;
  for (let round = 0; pending.length > 0; round++) {
    if (round === MAX_ROUNDS) {
      for (const i of pending)
        outcomes[i] = { ok: false, reason: 'error', message: 'transaction kept conflicting' };
      return;
    }
    try {
      await dynamo.send(
        new TransactWriteCommand({
          TransactItems: pending.map((i) => items[i] as TransactItem),
          // The same token on the SDK's own retries makes a committed call succeed again
          // instead of failing on the conditions it has itself just satisfied.
          ClientRequestToken: randomUUID(),
        }),
      );
      for (const i of pending) outcomes[i] = { ok: true };
      return;
    } catch (error) {
      if (!isAwsError(error, 'TransactionCanceledException') || !error.CancellationReasons) {
        // DynamoDB refused the call as a whole (over 4 MB, or one item it cannot take, such as a key
        // too long): halves are sent again until the item at fault is alone, so it fails by itself.
        if (pending.length > 1 && isAwsError(error, 'ValidationException')) {
          const half = Math.ceil(pending.length / 2);
          await Promise.all([
            writeChunk(dynamo, items, pending.slice(0, half), outcomes),
            writeChunk(dynamo, items, pending.slice(half), outcomes),
          ]);
          return;
        }
        const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
        for (const i of pending) outcomes[i] = { ok: false, reason: 'error', message };
        return;
      }
      const retry: number[] = [];
      error.CancellationReasons.forEach((reason, position) => {
        const i = pending[position];
        if (i === undefined) return;
        if (reason.Code === 'ConditionalCheckFailed') {
          outcomes[i] = { ok: false, reason: 'condition', old: unmarshallLoose(reason.Item) };
        } else if (reason.Code === 'ValidationError') {
          outcomes[i] = { ok: false, reason: 'error', message: reason.Message ?? 'ValidationError' };
        } else {
          retry.push(i);
        }
      });
      pending = retry;
    }
  }
}

/** Cancellation reasons carry raw attribute values even through the document client. */
function unmarshallLoose(
  item: Record<string, AttributeValue> | undefined,
): Record<string, unknown> | undefined {
  return item ? unmarshall(item) : undefined;
}
