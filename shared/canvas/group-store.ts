import { BatchGetCommand, BatchWriteCommand, type DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Signature } from '../envelope/signature.ts';
import { GroupNotFoundError } from './chord-errors.ts';

/**
 * Groups and chords in the results table, under keys no task id can take (`ID_PATTERN` has no
 * `#`) and without the listing indexes' attributes, so no listing shows them; they expire with
 * the results (`expiresAt`). A group is `group#<id>#<chunk>`: its member ids in order, at most
 * `GROUP_CHUNK` an item (10,000 members of 128-character ids are 10 items of 130 KB, under
 * DynamoDB's 400 KB). A chord adds `chord#<id>` (its callback, size and shard count) and, as its
 * members finish, `chord#<id>#<shard>` counters (chord-store.ts).
 */
export const GROUP_CHUNK = 1_000;
/** BatchWriteItem's and BatchGetItem's most items a request. */
const BATCH_WRITE = 25;
const BATCH_GET = 100;
const ROUNDS = 8;

export const groupKey = (groupId: string, chunk: number): string => `group#${groupId}#${chunk}`;
export const chordKey = (chordId: string): string => `chord#${chordId}`;

/** One chunk of a group's record, as stored. */
interface GroupChunkItem {
  taskId: string;
  groupId: string;
  chunk: number;
  chunks: number;
  size: number;
  members: string[];
  chord?: true;
  dateCreated: string;
  expiresAt: number;
}

/** A chord's own record, as stored: what its last member needs to send the callback. */
export interface ChordItem {
  taskId: string;
  groupId: string;
  size: number;
  /** Members a counter item takes (`chord-store.ts`): member `i` counts in shard `floor(i / shardSize)`. */
  shardSize: number;
  shards: number;
  /** The callback signature, as JSON text (its id fixed at apply time). */
  callback: string;
  dateCreated: string;
  expiresAt: number;
  /** Set once the callback was sent, or recorded FAILURE with its errbacks sent. */
  settledAt?: string;
}

/** A group as read back: its members' ids in order, and whether it is a chord's header. */
export interface GroupRecord {
  groupId: string;
  memberIds: string[];
  chord: boolean;
  dateCreated: string;
}

export interface GroupRecordInput {
  groupId: string;
  memberIds: readonly string[];
  /** Epoch seconds: DynamoDB's TTL removes the record after this. */
  expiresAt: number;
  now: Date;
  /** Set for a chord's header: the callback and the counters' shard size. */
  chord?: { callback: Signature; shardSize: number };
}

/** The items of a group's record (and of a chord's, when it is one). */
export function groupItems(input: GroupRecordInput): Record<string, unknown>[] {
  const { groupId, memberIds, expiresAt } = input;
  const dateCreated = input.now.toISOString();
  const chunks = Math.max(1, Math.ceil(memberIds.length / GROUP_CHUNK));
  const items: Record<string, unknown>[] = [];
  for (let chunk = 0; chunk < chunks; chunk++) {
    const item: GroupChunkItem = {
      taskId: groupKey(groupId, chunk),
      groupId,
      chunk,
      chunks,
      size: memberIds.length,
      members: memberIds.slice(chunk * GROUP_CHUNK, (chunk + 1) * GROUP_CHUNK),
      ...(input.chord ? { chord: true as const } : {}),
      dateCreated,
      expiresAt,
    };
    items.push(item as unknown as Record<string, unknown>);
  }
  if (input.chord) {
    const { callback, shardSize } = input.chord;
    const item: ChordItem = {
      taskId: chordKey(groupId),
      groupId,
      size: memberIds.length,
      shardSize,
      shards: Math.ceil(memberIds.length / shardSize),
      callback: JSON.stringify(callback),
      dateCreated,
      expiresAt,
    };
    items.push(item as unknown as Record<string, unknown>);
  }
  return items;
}

/**
 * Writes a group's record before any member is sent, so a member that finishes at once finds it.
 * Plain puts: applying the same group again writes the same items.
 */
export async function writeGroupRecord(
  dynamo: DynamoDBDocumentClient,
  table: string,
  input: GroupRecordInput,
): Promise<void> {
  const items = groupItems(input);
  await Promise.all(
    chunksOf(items, BATCH_WRITE).map(async (batch) => {
      let requests = batch.map((Item) => ({ PutRequest: { Item } }));
      for (let round = 0; requests.length > 0; round++) {
        if (round === ROUNDS)
          throw new GroupNotFoundError(
            input.groupId,
            `its record could not be written after ${ROUNDS} tries`,
          );
        if (round > 0) await pause(round);
        const out = await dynamo.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
        requests = (out.UnprocessedItems?.[table] ?? []) as typeof requests;
      }
    }),
  );
}

/** Reads items by key, 100 a request, with unprocessed keys asked again; missing ones left out. */
export async function getItems(
  dynamo: DynamoDBDocumentClient,
  table: string,
  keys: readonly string[],
): Promise<Map<string, Record<string, unknown>>> {
  const found = new Map<string, Record<string, unknown>>();
  await Promise.all(
    chunksOf(keys, BATCH_GET).map(async (batch) => {
      let pending: Record<string, unknown>[] = batch.map((taskId) => ({ taskId }));
      for (let round = 0; pending.length > 0; round++) {
        if (round === ROUNDS)
          throw new Error(`${pending.length} items could not be read after ${ROUNDS} tries`);
        if (round > 0) await pause(round);
        const out = await dynamo.send(
          new BatchGetCommand({ RequestItems: { [table]: { Keys: pending, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[table] ?? []) found.set(String(item.taskId), item);
        pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
      }
    }),
  );
  return found;
}

/** A group's record, or undefined when there is none (never applied, or expired). */
export async function readGroupRecord(
  dynamo: DynamoDBDocumentClient,
  table: string,
  groupId: string,
  now: Date = new Date(),
): Promise<GroupRecord | undefined> {
  const first = (await getItems(dynamo, table, [groupKey(groupId, 0)])).get(groupKey(groupId, 0)) as
    | GroupChunkItem
    | undefined;
  if (!first || first.expiresAt * 1000 < now.getTime()) return undefined;
  const rest = Array.from({ length: first.chunks - 1 }, (_, i) => groupKey(groupId, i + 1));
  const items = await getItems(dynamo, table, rest);
  const memberIds = [...first.members];
  for (const key of rest) {
    const item = items.get(key) as GroupChunkItem | undefined;
    if (!item) throw new GroupNotFoundError(groupId, `its record lacks ${key}`);
    memberIds.push(...item.members);
  }
  if (memberIds.length !== first.size)
    throw new GroupNotFoundError(groupId, `its record holds ${memberIds.length} of ${first.size} members`);
  return { groupId, memberIds, chord: first.chord === true, dateCreated: first.dateCreated };
}

export function chunksOf<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** Backs off before asking again for what DynamoDB left unprocessed (it throttled). */
function pause(round: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.min(1_000, 25 * 2 ** round)));
}
