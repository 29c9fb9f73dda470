import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { ValidationError } from '../errors.ts';
import { BUILTIN_STATES, CUSTOM_STATE_PATTERN, TaskState } from '../task/states.ts';
import {
  ALL,
  indexKey,
  RESULT_INDEXES,
  type ResultIndex,
  type TaskSummary,
  withoutIndexKeys,
} from './indexes.ts';

export interface TaskListQuery {
  /** Only tasks in these states. @defaultValue every state */
  states?: readonly TaskState[];
  /** Only runs of this task. */
  taskName?: string;
  /** Only runs sent by this periodic task. */
  periodicTask?: string;
  /** Which time `since` and `until` bound, and the listing's order. @defaultValue 'dateCreated' */
  timeField?: 'dateCreated' | 'dateDone';
  /** Only tasks sent (or done, by `timeField`) at or after this instant. */
  since?: Date;
  /** Only tasks sent (or done, by `timeField`) before this instant. */
  until?: Date;
  /** Only rows not yet re-sent by a retry or replay. */
  notReplayed?: boolean;
  /** Only tasks a run holds right now (a live lease): Celery's `inspect active`. */
  activeAt?: number;
  /** @defaultValue 50 */
  limit?: number;
  /** What a previous page returned, to read on from there. */
  cursor?: string;
}

export interface TaskListPage {
  items: TaskSummary[];
  /** Absent on the last page. */
  cursor?: string;
}

type Key = Record<string, unknown>;

interface Lane {
  index: ResultIndex;
  value: string;
  /** Where the next read starts; `null` once the lane is read to its end. */
  start: Key | undefined | null;
  /** Where this page began reading the lane. */
  origin: Key | undefined | null;
  buffer: TaskSummary[];
}

/** The states a run claims a row with: the index lanes of every row a run holds. */
const RUN_STATES: readonly TaskState[] = [TaskState.PENDING, TaskState.STARTED, TaskState.RETRY];

/** Reads per lane per page at most: a filter that drops most rows cannot make a listing run on. */
const MAX_READS_PER_LANE = 10;
/** The largest page a listing returns: the CLI states it in `--help` and refuses more. */
export const MAX_LIMIT = 1000;

/**
 * A page of task summaries, newest first, from the results table's indexes. With a task name it
 * reads that name's partition; otherwise one partition per state, merged by time. Every lane is
 * read until it holds a page, ends, or spends its reads; the cursor keeps each lane's own position.
 * A page may be short or empty (a filter dropped the rows read) but then its cursor has moved on;
 * the last page has no cursor.
 */
export async function listTasks(
  dynamo: DynamoDBDocumentClient,
  table: string,
  query: TaskListQuery,
  now: Date = new Date(),
): Promise<TaskListPage> {
  const limit = query.limit ?? 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw ValidationError.of('limit', `must be a whole number from 1 to ${MAX_LIMIT} (got ${limit})`);
  }
  const states = query.states?.length ? [...new Set(query.states)] : BUILTIN_STATES;
  // A custom state (`ctx.updateState`) is listed by its name like one of the six.
  const unknown = states.find((s) => !CUSTOM_STATE_PATTERN.test(s));
  if (unknown !== undefined) {
    throw ValidationError.of(
      'state',
      `${JSON.stringify(unknown)} is not a state name (one of ${BUILTIN_STATES.join(', ')}, or a custom one such as PROGRESS)`,
    );
  }
  if (query.since && query.until && query.since.getTime() >= query.until.getTime()) {
    throw ValidationError.of('since', 'must be before until');
  }
  const starts = query.cursor ? startsOf(query.cursor) : undefined;
  const lanes = lanesFor(query, states);
  if (starts && starts.length !== lanes.length) {
    throw ValidationError.of('cursor', 'belongs to a listing with other filters; give the same filters');
  }
  lanes.forEach((lane, i) => {
    if (starts) lane.start = lane.origin = starts[i];
  });

  await Promise.all(lanes.map((lane) => fill(dynamo, table, lane, query, limit, now)));

  // A lane not read to its end may still hold rows newer than another lane's buffered ones, down
  // to its frontier (the last row it read): only rows at or above every open frontier are safe to
  // show, so pages stay newest first across lanes.
  const sortKey = RESULT_INDEXES[(lanes[0] as Lane).index].sortKey;
  const frontier =
    lanes
      .map((lane) => (lane.start ? String(lane.start[sortKey] ?? '') : ''))
      .sort()
      .at(-1) ?? '';
  const merged = lanes
    .flatMap((lane, laneIndex) => lane.buffer.map((item, position) => ({ item, laneIndex, position })))
    .filter(({ item }) => (item[sortKey] ?? '') >= frontier)
    .sort((a, b) => (b.item[sortKey] ?? '').localeCompare(a.item[sortKey] ?? ''))
    .slice(0, limit);
  const taken = lanes.map(() => -1);
  for (const { laneIndex, position } of merged) taken[laneIndex] = Math.max(taken[laneIndex] ?? -1, position);
  // Each lane goes on after what it showed. A lane that read only filtered-out rows goes on from
  // its frontier, never from where this page began: that is what makes an empty page progress
  // (the lane with the highest frontier always has an empty buffer when nothing was shown).
  const next = lanes.map((lane, i) => {
    const last = taken[i] ?? -1;
    if (last === lane.buffer.length - 1) return lane.start;
    if (last < 0) return lane.origin;
    return keyOf(lane, lane.buffer[last] as TaskSummary);
  });
  const more = next.some((start) => start !== null);
  return {
    items: merged.map((m) => withoutIndexKeys(m.item)),
    ...(more ? { cursor: cursorOf(next) } : {}),
  };
}

/**
 * Which index serves a query: the most selective key among its filters, read as one lane per
 * key value and shard. A time range on `dateDone` needs `byDone`, the one index sorted by it; the
 * other filters become conditions on what a lane reads (each read stays a bounded Query).
 */
function lanesFor(query: TaskListQuery, states: readonly TaskState[]): Lane[] {
  // A row in a custom state (`ctx.updateState`) stays indexed under its run's claim state, so
  // only Celery's own states have lanes of their own; a custom one is read from all, by filter.
  const indexed = query.states?.length && states.every((s) => (BUILTIN_STATES as string[]).includes(s));
  const choose = (): { index: ResultIndex; values: readonly string[] } => {
    if (query.timeField === 'dateDone') return { index: 'byDone', values: [ALL] };
    if (query.taskName) return { index: 'byTaskName', values: [query.taskName] };
    if (query.periodicTask) return { index: 'byPeriodicTask', values: [query.periodicTask] };
    if (indexed) return { index: 'byStatus', values: states };
    // A live lease is only ever on a row indexed under a state a run claims with.
    if (query.activeAt !== undefined && !query.states?.length)
      return { index: 'byStatus', values: RUN_STATES };
    return { index: 'byCreated', values: [ALL] };
  };
  const { index, values } = choose();
  const { shards } = RESULT_INDEXES[index];
  return values.flatMap((value) =>
    Array.from({ length: shards }, (_, shard) => ({
      index,
      value: indexKey(value, shard),
      start: undefined,
      origin: undefined,
      buffer: [],
    })),
  );
}

async function fill(
  dynamo: DynamoDBDocumentClient,
  table: string,
  lane: Lane,
  query: TaskListQuery,
  limit: number,
  now: Date,
): Promise<void> {
  const { partitionKey, sortKey, name } = RESULT_INDEXES[lane.index];
  const names: Record<string, string> = { '#pk': partitionKey, '#expires': 'expiresAt' };
  const values: Record<string, unknown> = {
    ':pk': lane.value,
    ':nowSeconds': Math.floor(now.getTime() / 1000),
  };
  let range = '';
  if (query.since && query.until) {
    range = ' AND #sk BETWEEN :since AND :until';
    values[':since'] = query.since.toISOString();
    values[':until'] = new Date(query.until.getTime() - 1).toISOString();
  } else if (query.since) {
    range = ' AND #sk >= :since';
    values[':since'] = query.since.toISOString();
  } else if (query.until) {
    range = ' AND #sk < :until';
    values[':until'] = query.until.toISOString();
  }
  if (range) names['#sk'] = sortKey;
  // TTL deletes lazily: a row past its expiry is gone as far as anyone reading is concerned.
  const filters = ['(attribute_not_exists(#expires) OR #expires > :nowSeconds)'];
  const source: string | undefined = RESULT_INDEXES[lane.index].source;
  for (const [attribute, value] of [
    ['taskName', query.taskName],
    ['periodicTask', query.periodicTask],
  ] as const) {
    if (value === undefined || source === attribute) continue;
    names[`#${attribute}`] = attribute;
    values[`:${attribute}`] = value;
    filters.push(`#${attribute} = :${attribute}`);
  }
  if (query.notReplayed) {
    names['#replayedAs'] = 'replayedAs';
    filters.push('attribute_not_exists(#replayedAs)');
  }
  // On a state's own lane too: a row there may show a custom state its run set since its claim.
  if (query.states?.length) {
    names['#status'] = 'status';
    const keys = query.states.map((state, i) => {
      values[`:s${i}`] = state;
      return `:s${i}`;
    });
    filters.push(`#status IN (${keys.join(', ')})`);
  }
  if (query.activeAt !== undefined) {
    names['#lease'] = 'leaseUntil';
    values[':activeAt'] = query.activeAt;
    filters.push('#lease > :activeAt');
  }
  for (
    let reads = 0;
    lane.start !== null && lane.buffer.length <= limit && reads < MAX_READS_PER_LANE;
    reads++
  ) {
    const page = await dynamo.send(
      new QueryCommand({
        TableName: table,
        IndexName: name,
        KeyConditionExpression: `#pk = :pk${range}`,
        FilterExpression: filters.join(' AND '),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        // One row past the page: a lane that holds it is known not to end here, so a listing whose
        // rows fill its last page exactly needs no empty page after it.
        Limit: limit + 1 - lane.buffer.length,
        ...(lane.start ? { ExclusiveStartKey: lane.start } : {}),
      }),
    );
    lane.buffer.push(...((page.Items ?? []) as TaskSummary[]));
    lane.start = page.LastEvaluatedKey ?? null;
  }
}

/** An index position: the table's key and the index's. */
function keyOf(lane: Lane, item: TaskSummary): Key {
  const { partitionKey, sortKey } = RESULT_INDEXES[lane.index];
  const row = item as unknown as Key;
  return { taskId: item.taskId, [partitionKey]: row[partitionKey], [sortKey]: row[sortKey] };
}

function cursorOf(starts: (Key | undefined | null)[]): string {
  return encodeCursor(starts.map((s) => (s === undefined ? 0 : s)));
}

/** Per lane: a key to start after, `undefined` for the beginning, `null` for a lane read to its end. */
function startsOf(cursor: string): (Key | undefined | null)[] {
  const starts = decodeCursor(cursor, (value): value is unknown[] => Array.isArray(value));
  return starts.map((s) => (s === 0 ? undefined : (s as Key | null)));
}
