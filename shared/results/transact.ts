import { randomUUID } from 'node:crypto';
import { type AttributeValue, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { unmarshall } from '@aws-sdk/util-dynamodb';

type TransactItem = NonNullable<
  ConstructorParameters<typeof TransactWriteCommand>[0]['TransactItems']
>[number];

export type TransactOutcome =
  | { ok: true }
  | { ok: false; reason: 'condition'; old: Record<string, unknown> | undefined }
  | { ok: false; reason: 'error'; message: string };

const MAX_ITEMS = 100;
const MAX_BYTES = 3_500_000;
const MAX_ROUNDS = 5;

/**
 * Writes many conditional items with as few `TransactWriteItems` calls as DynamoDB allows (100
 * items and 4 MB a call) and tells, per item, whether it was written or why not. A cancelled
 * transaction names the items whose condition failed; the rest are sent again without them.
 */
export async function transactWriteEach(
  dynamo: DynamoDBDocumentClient,
  items: readonly TransactItem[],
  sizes: readonly number[],
): Promise<TransactOutcome[]> {
  const outcomes: (TransactOutcome | undefined)[] = new Array(items.length);
  const chunks: number[][] = [];
  let chunk: number[] = [];
  let bytes = 0;
  items.forEach((_, index) => {
    const size = sizes[index] ?? 0;
    if (chunk.length === MAX_ITEMS || (chunk.length > 0 && bytes + size > MAX_BYTES)) {
      chunks.push(chunk);
      chunk = [];
      bytes = 0;
    }
    chunk.push(index);
    bytes += size;
  });
  if (chunk.length) chunks.push(chunk);

  await Promise.all(
    chunks.map(async (indexes) => {
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
          if (!(error instanceof TransactionCanceledException) || !error.CancellationReasons) throw error;
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
    }),
  );
  return outcomes.map((o) => o ?? { ok: false, reason: 'error', message: 'not attempted' });
}

/** Cancellation reasons carry raw attribute values even through the document client. */
function unmarshallLoose(
  item: Record<string, AttributeValue> | undefined,
): Record<string, unknown> | undefined {
  return item ? unmarshall(item) : undefined;
}
