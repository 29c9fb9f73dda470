import type { TaskResultRecord } from './record.ts';

/**
 * The results table's listing indexes, in one place (the stack defines them from this, the store
 * writes their keys from this, the listing reads them by this): no scans on request paths.
 *
 * Each index's partition key is an attribute of its own (`lk…`), written by the store as
 * `<value>#<shard>`, the shard a hash of the task id below `shards`. With one shard a listing
 * reads one key per value; with `n` it reads `n` keys and merges them, and each key takes `1/n`
 * of the writes: a key takes about 1,000 writes a second, so an index whose key every task
 * writes twice (`byCreated`, `byStatus`'s `PENDING`) caps the stack near 500 tasks/s per shard
 * (docs/scaling.md). A shard count may only grow: rows keep the shard they were written with.
 */
export const RESULT_INDEXES = {
  /** Every task, newest first: the unfiltered list, one Query per shard. */
  byCreated: {
    name: 'byCreated',
    partitionKey: 'lkAll',
    sortKey: 'dateCreated',
    source: undefined,
    shards: 1,
  },
  /** Tasks in one state, newest first (`celerity tasks --state`, `inspect active`). */
  byStatus: {
    name: 'byStatus',
    partitionKey: 'lkStatus',
    sortKey: 'dateCreated',
    source: 'status',
    shards: 1,
  },
  /** Runs of one task, newest first (`celerity tasks --name`). */
  byTaskName: {
    name: 'byTaskName',
    partitionKey: 'lkTaskName',
    sortKey: 'dateCreated',
    source: 'taskName',
    shards: 1,
  },
  /** Runs sent by one periodic task (sparse: only those rows). */
  byPeriodicTask: {
    name: 'byPeriodicTask',
    partitionKey: 'lkPeriodicTask',
    sortKey: 'dateCreated',
    source: 'periodicTask',
    shards: 1,
  },
  /** Finished tasks by when they finished (sparse: rows with a `dateDone`). */
  byDone: { name: 'byDone', partitionKey: 'lkDone', sortKey: 'dateDone', source: undefined, shards: 1 },
} as const satisfies Record<
  string,
  {
    name: string;
    partitionKey: `lk${string}`;
    sortKey: 'dateCreated' | 'dateDone';
    source: keyof TaskResultRecord | undefined;
    shards: number;
  }
>;

export type ResultIndex = keyof typeof RESULT_INDEXES;

/** The value of an index without a source attribute (`byCreated`, `byDone`): one list of all. */
export const ALL = 'all';

/** The index key attributes a row carries; never shown to a reader. */
export const INDEX_KEY_ATTRIBUTES: readonly string[] = Object.values(RESULT_INDEXES).map(
  (i) => i.partitionKey,
);

/** FNV-1a of the task id: stable across processes and languages, spread evenly. */
export function shardOf(taskId: string, shards: number): number {
  if (shards <= 1) return 0;
  let hash = 0x811c9dc5;
  for (let i = 0; i < taskId.length; i++) {
    hash ^= taskId.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193) >>> 0;
  }
  return hash % shards;
}

export function indexKey(value: string, shard: number): string {
  return `${value}#${shard}`;
}

/** One index's key value for a row, or undefined when the row has no place in it (sparse). */
export function indexKeyOf(index: ResultIndex, row: Partial<TaskResultRecord>): string | undefined {
  const { source, sortKey, shards } = RESULT_INDEXES[index];
  if (!row.taskId || !row[sortKey]) return undefined;
  const value = source === undefined ? ALL : row[source];
  if (typeof value !== 'string' || value === '') return undefined;
  return indexKey(value, shardOf(row.taskId, shards));
}

/** A row with every index key it belongs under (and none it no longer does). */
export function withIndexKeys<T extends Partial<TaskResultRecord>>(row: T): T {
  const out: Record<string, unknown> = { ...row };
  for (const index of Object.keys(RESULT_INDEXES) as ResultIndex[]) {
    const key = indexKeyOf(index, row);
    const attribute = RESULT_INDEXES[index].partitionKey;
    if (key === undefined) delete out[attribute];
    else out[attribute] = key;
  }
  return out as T;
}

/** A row as a reader sees it: without the index keys. */
export function withoutIndexKeys<T extends object>(row: T): T {
  const out: Record<string, unknown> = { ...(row as Record<string, unknown>) };
  for (const attribute of INDEX_KEY_ATTRIBUTES) delete out[attribute];
  return out as T;
}

/**
 * What the indexes carry besides their keys: the small fields a listing shows. The large ones
 * (args, kwargs, result, traceback) stay in the table, so an index write costs one unit, not
 * up to 400; a listing's reader fetches a row by id for them.
 */
export const SUMMARY_ATTRIBUTES = [
  'taskName',
  'status',
  'dateCreated',
  'dateStarted',
  'dateDone',
  'retries',
  'queue',
  'origin',
  'periodicTask',
  'worker',
  'eta',
  'errorType',
  'expiresAt',
  'leaseUntil',
  'replayedAs',
] as const satisfies readonly (keyof TaskResultRecord)[];

/** The non-key attributes an index projects: the summary, less that index's sort key. */
export function projectedAttributes(index: ResultIndex): string[] {
  const { sortKey } = RESULT_INDEXES[index];
  return SUMMARY_ATTRIBUTES.filter((a) => a !== sortKey);
}

/** One row as a listing returns it: the record without its large fields or lease token. */
export type TaskSummary = Pick<TaskResultRecord, 'taskId' | (typeof SUMMARY_ATTRIBUTES)[number]>;
