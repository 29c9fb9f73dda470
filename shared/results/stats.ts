import { BatchGetCommand, type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { TaskState } from '../task/states.ts';
import type { TaskResultRecord } from './record.ts';

/**
 * Flower's Monitor without a scan: counters the store adds to as it records outcomes, kept in the
 * results table under keys no task id can take (`ID_PATTERN` allows no `|`), one item per task
 * name and minute and one per task name and hour. An outcome batch adds one `UpdateItem` per
 * (name, minute) and per (name, hour) it holds, whatever its size; reading one name's last hour
 * and day is 60 minute items and 25 hour items, one `BatchGetItem` (100 keys at most).
 * The items have no index keys, so no listing sees them.
 */
const PREFIX = 'stats|';
/** Runtime buckets' upper bounds, in milliseconds: percentiles are read as a bucket's bound. */
export const RUNTIME_BOUNDS_MS = [
  1, 2, 5, 10, 20, 50, 100, 200, 500, 1_000, 2_000, 5_000, 10_000, 20_000, 60_000, 120_000, 300_000, 900_000,
] as const;
/** The states counted: the outcomes a worker records. */
export const COUNTED_STATES = [
  TaskState.SUCCESS,
  TaskState.FAILURE,
  TaskState.RETRY,
  TaskState.REVOKED,
] as const;
/** Counter items outlive the day window by a day, then TTL removes them. */
const KEEP_SECONDS = 2 * 86_400;
const MINUTE = 60_000;
const HOUR = 3_600_000;

type Grain = 'm' | 'h';

export function statsKey(taskName: string, grain: Grain, bucketStart: number): string {
  return `${PREFIX}${grain}|${taskName}|${new Date(bucketStart).toISOString()}`;
}

function bucketOf(ms: number, grain: Grain): number {
  const size = grain === 'm' ? MINUTE : HOUR;
  return Math.floor(ms / size) * size;
}

export function runtimeBucket(ms: number): number {
  const i = RUNTIME_BOUNDS_MS.findIndex((bound) => ms <= bound);
  return i < 0 ? RUNTIME_BOUNDS_MS.length : i;
}

interface Increment {
  key: string;
  expiresAt: number;
  counts: Map<string, number>;
}

/** The counters a batch of recorded outcomes adds, one increment per item it touches. */
export function incrementsOf(records: readonly TaskResultRecord[]): Increment[] {
  const byKey = new Map<string, Increment>();
  for (const record of records) {
    if (!record.taskName || !(COUNTED_STATES as readonly string[]).includes(record.status)) continue;
    const done = Date.parse(record.dateDone ?? '');
    if (Number.isNaN(done)) continue;
    const started = Date.parse(record.dateStarted ?? '');
    const runtime = Number.isNaN(started) ? undefined : Math.max(0, done - started);
    for (const grain of ['m', 'h'] as const) {
      const start = bucketOf(done, grain);
      const key = statsKey(record.taskName, grain, start);
      const increment = byKey.get(key) ?? {
        key,
        expiresAt: Math.floor(start / 1000) + KEEP_SECONDS,
        counts: new Map<string, number>(),
      };
      byKey.set(key, increment);
      const add = (counter: string, by = 1) =>
        increment.counts.set(counter, (increment.counts.get(counter) ?? 0) + by);
      add(record.status);
      if (
        runtime !== undefined &&
        (record.status === TaskState.SUCCESS || record.status === TaskState.FAILURE)
      ) {
        add(`rt${runtimeBucket(runtime)}`);
      }
    }
  }
  return [...byKey.values()];
}

/** Adds a batch's counts; one `UpdateItem` per item, all at once. */
export async function addStats(
  dynamo: DynamoDBDocumentClient,
  table: string,
  records: readonly TaskResultRecord[],
): Promise<number> {
  const increments = incrementsOf(records);
  await Promise.all(
    increments.map(({ key, expiresAt, counts }) => {
      const names: Record<string, string> = {};
      const values: Record<string, number> = { ':expiresAt': expiresAt };
      const adds = [...counts].map(([counter, by], i) => {
        names[`#c${i}`] = counter;
        values[`:c${i}`] = by;
        return `#c${i} :c${i}`;
      });
      return dynamo.send(
        new UpdateCommand({
          TableName: table,
          Key: { taskId: key },
          UpdateExpression: `ADD ${adds.join(', ')} SET expiresAt = :expiresAt`,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        }),
      );
    }),
  );
  return increments.length;
}

export interface WindowStats {
  total: number;
  states: Record<(typeof COUNTED_STATES)[number], number>;
  /** FAILURE ÷ (SUCCESS + FAILURE); null when neither happened. */
  failureRate: number | null;
  /** Upper bounds of the buckets holding the 50th and 95th percentile runtime (ms); null without runs. */
  runtimeMs: { p50: number | null; p95: number | null };
  /** Runs per runtime bucket, by upper bound in ms (`null`: above the last bound). */
  histogram: number[];
}

export interface NameStats {
  name: string;
  hour: WindowStats;
  day: WindowStats;
}

function emptyCounts(): number[] {
  return new Array(RUNTIME_BOUNDS_MS.length + 1).fill(0);
}

interface Tally {
  states: Record<string, number>;
  histogram: number[];
}

function addItem(tally: Tally, item: Record<string, unknown>): void {
  for (const state of COUNTED_STATES)
    tally.states[state] = (tally.states[state] ?? 0) + Number(item[state] ?? 0);
  for (let i = 0; i < tally.histogram.length; i++)
    tally.histogram[i] = (tally.histogram[i] ?? 0) + Number(item[`rt${i}`] ?? 0);
}

function percentile(histogram: readonly number[], p: number): number | null {
  const total = histogram.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  let seen = 0;
  for (let i = 0; i < histogram.length; i++) {
    seen += histogram[i] ?? 0;
    if (seen >= p * total) return RUNTIME_BOUNDS_MS[i] ?? Number.POSITIVE_INFINITY;
  }
  return null;
}

export function windowOf(tally: Tally): WindowStats {
  const states = Object.fromEntries(
    COUNTED_STATES.map((s) => [s, tally.states[s] ?? 0]),
  ) as WindowStats['states'];
  const decided = states.SUCCESS + states.FAILURE;
  return {
    total: Object.values(states).reduce((a, b) => a + b, 0),
    states,
    failureRate: decided === 0 ? null : states.FAILURE / decided,
    runtimeMs: { p50: percentile(tally.histogram, 0.5), p95: percentile(tally.histogram, 0.95) },
    histogram: tally.histogram,
  };
}

export function mergeTallies(tallies: readonly Tally[]): Tally {
  const out: Tally = { states: {}, histogram: emptyCounts() };
  for (const t of tallies) {
    addItem(out, { ...t.states, ...Object.fromEntries(t.histogram.map((n, i) => [`rt${i}`, n])) });
  }
  return out;
}

/** The keys one name's windows read: the last 60 minutes, and the last 24 hours and the current one. */
function windowKeys(name: string, now: number): { hour: string[]; day: string[] } {
  const minute = bucketOf(now, 'm');
  const hour = bucketOf(now, 'h');
  return {
    hour: Array.from({ length: 60 }, (_, i) => statsKey(name, 'm', minute - i * MINUTE)),
    day: Array.from({ length: 25 }, (_, i) => statsKey(name, 'h', hour - i * HOUR)),
  };
}

/** Keys per BatchGetItem, DynamoDB's limit. */
const BATCH_KEYS = 100;
/** Rounds of retrying keys DynamoDB left unprocessed (throttling) before giving up on them. */
const UNPROCESSED_ROUNDS = 5;

/**
 * Each name's last hour (by minute) and last day (by hour: 24 to 25 hours), with tallies for
 * merging. Reads 85 keys a name, packed 100 to a `BatchGetItem`.
 */
export async function readStats(
  dynamo: DynamoDBDocumentClient,
  table: string,
  names: readonly string[],
  now: number,
): Promise<{ stats: NameStats[]; tallies: { hour: Tally; day: Tally }[]; requests: number }> {
  const keys = names.map((name) => windowKeys(name, now));
  const wanted = keys.flatMap((k) => [...k.hour, ...k.day]);
  const items = new Map<string, Record<string, unknown>>();
  let requests = 0;
  for (let i = 0; i < wanted.length; i += BATCH_KEYS) {
    let pending: Record<string, unknown>[] = wanted.slice(i, i + BATCH_KEYS).map((taskId) => ({ taskId }));
    for (let round = 0; pending.length > 0 && round < UNPROCESSED_ROUNDS; round++) {
      requests++;
      const out = await dynamo.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: pending } } }));
      for (const item of out.Responses?.[table] ?? []) items.set(String(item.taskId), item);
      pending = (out.UnprocessedKeys?.[table]?.Keys ?? []) as Record<string, unknown>[];
    }
  }
  const tallyOf = (list: string[]): Tally => {
    const tally: Tally = { states: {}, histogram: emptyCounts() };
    for (const key of list) {
      const item = items.get(key);
      if (item) addItem(tally, item);
    }
    return tally;
  };
  const tallies = keys.map((k) => ({ hour: tallyOf(k.hour), day: tallyOf(k.day) }));
  const stats = names.map((name, i) => {
    const t = tallies[i] as { hour: Tally; day: Tally };
    return { name, hour: windowOf(t.hour), day: windowOf(t.day) };
  });
  return { stats, tallies, requests };
}
