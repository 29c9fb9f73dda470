import { type DynamoDBDocumentClient, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isAwsError } from '../aws/errors.ts';
import { withIndexKeys } from '../results/indexes.ts';
import type { TaskResultRecord } from '../results/record.ts';
import { TaskState } from '../task/states.ts';
import { type ChordItem, chordKey } from './group-store.ts';

/**
 * A chord's count, sharded so no key takes more than a few writes a second's worth of its
 * members: member `i` is counted in `chord#<id>#<floor(i / CHORD_SHARD_SIZE)>`, by adding `i`
 * to that item's number set (`ADD done :i`). A set holds each index once, so counting a
 * redelivered member again changes nothing: the count is exact under duplicates, and an
 * `UpdateItem` is atomic, so concurrent finishes each see the set with their own index in it.
 * The member whose add makes its shard whole adds the shard's number to the chord's record
 * (`chord#<id>`, again a set); the one whose add makes that whole sends the callback. 10,000
 * members are 100 shard items of 100 writes each and 100 writes on the record, spread over the
 * chord's run: DynamoDB takes about 1,000 writes a second on one key.
 */
export const CHORD_SHARD_SIZE = 100;

export const chordShardKey = (chordId: string, shard: number): string => `chord#${chordId}#${shard}`;

/** How many members shard `shard` of a chord of `size` holds. */
export function shardCount(size: number, shard: number, shardSize: number = CHORD_SHARD_SIZE): number {
  return Math.max(0, Math.min(shardSize, size - shard * shardSize));
}

/** What a chord's record says once a shard has been added to it. */
export interface ShardAdded {
  chord: ChordItem;
  shardsDone: number;
  /** Set once the callback was sent (or recorded as failed): later finishers need not send it. */
  settled: boolean;
}

/**
 * Counts finished members (by index) in their shard and returns how many distinct members that
 * shard has counted, and whether the shard was already added to the chord's record. Counting a
 * member again is a no-op.
 */
export async function countMembers(
  dynamo: DynamoDBDocumentClient,
  table: string,
  input: { chordId: string; shard: number; indexes: readonly number[]; expiresAt: number },
): Promise<{ counted: number; added: boolean }> {
  const out = await dynamo.send(
    new UpdateCommand({
      TableName: table,
      Key: { taskId: chordShardKey(input.chordId, input.shard) },
      UpdateExpression: 'ADD done :indexes SET expiresAt = if_not_exists(expiresAt, :expiresAt)',
      ExpressionAttributeValues: { ':indexes': new Set(input.indexes), ':expiresAt': input.expiresAt },
      // ALL_NEW: an add that changes nothing (a member counted again) still returns the set.
      ReturnValues: 'ALL_NEW',
    }),
  );
  const done = out.Attributes?.done;
  if (!(done instanceof Set))
    throw new Error(`chord ${input.chordId} shard ${input.shard}: no count came back`);
  return { counted: done.size, added: out.Attributes?.added === true };
}

/**
 * Notes on a whole shard that the chord's record has it: a member delivered again later stops at
 * its shard and writes nothing on the record, which so takes one write per shard.
 */
export async function markShardAdded(
  dynamo: DynamoDBDocumentClient,
  table: string,
  chordId: string,
  shard: number,
): Promise<void> {
  await dynamo.send(
    new UpdateCommand({
      TableName: table,
      Key: { taskId: chordShardKey(chordId, shard) },
      UpdateExpression: 'SET added = :true',
      ExpressionAttributeValues: { ':true': true },
    }),
  );
}

/**
 * Adds a whole shard to the chord's record; undefined when the chord has no record (never
 * applied, or expired with the results): there is then no callback to send.
 */
export async function addShard(
  dynamo: DynamoDBDocumentClient,
  table: string,
  chordId: string,
  shard: number,
): Promise<ShardAdded | undefined> {
  try {
    const out = await dynamo.send(
      new UpdateCommand({
        TableName: table,
        Key: { taskId: chordKey(chordId) },
        UpdateExpression: 'ADD shardsDone :shard',
        ConditionExpression: 'attribute_exists(taskId)',
        ExpressionAttributeValues: { ':shard': new Set([shard]) },
        ReturnValues: 'ALL_NEW',
      }),
    );
    const item = out.Attributes as (ChordItem & { shardsDone?: Set<number> }) | undefined;
    if (!item) return undefined;
    const { shardsDone, settledAt, ...chord } = item;
    return { chord, shardsDone: shardsDone?.size ?? 0, settled: settledAt !== undefined };
  } catch (error) {
    if (isAwsError(error, 'ConditionalCheckFailedException')) return undefined;
    throw error;
  }
}

/** Notes that the callback went (or was recorded FAILURE): duplicates of the last member skip the send. */
export async function markSettled(
  dynamo: DynamoDBDocumentClient,
  table: string,
  chordId: string,
  now: Date,
): Promise<void> {
  await dynamo
    .send(
      new UpdateCommand({
        TableName: table,
        Key: { taskId: chordKey(chordId) },
        UpdateExpression: 'SET settledAt = if_not_exists(settledAt, :now)',
        ConditionExpression: 'attribute_exists(taskId)',
        ExpressionAttributeValues: { ':now': now.toISOString() },
      }),
    )
    .catch((error: unknown) => {
      if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
    });
}

/**
 * Records the callback as FAILURE without running it, only where it has no row yet (it was
 * never sent: a chord's callback goes out only when every member succeeded). Returns whether the
 * callback's row is now that failure, written by this call or by an earlier one (a redelivery,
 * another failed member): its errbacks are then due. False when the callback has another row.
 */
export async function recordCallbackFailure(
  dynamo: DynamoDBDocumentClient,
  table: string,
  row: TaskResultRecord,
): Promise<boolean> {
  try {
    await dynamo.send(
      new PutCommand({
        TableName: table,
        Item: withIndexKeys(row),
        ConditionExpression: 'attribute_not_exists(taskId)',
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
      }),
    );
    return true;
  } catch (error) {
    if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
    const old = error.Item;
    return old?.status?.S === TaskState.FAILURE && old?.errorType?.S === row.errorType;
  }
}
