import type { TaskResultRecord } from './record.ts';

/**
 * The results table's listing indexes (no scans on request paths). Both sort by `dateCreated`, the
 * first send's time, so a retried task keeps its place. `status` as a partition key concentrates
 * writes per state; that is what Flower's "tasks by state" needs, and on-demand GSIs absorb it.
 * Both keys are written by every claim and completion already: rows need no extra attributes.
 */
export const RESULT_INDEXES = {
  /** Tasks in one state, newest first (`celerity tasks --state`, `inspect active`). */
  byStatus: { name: 'byStatus', partitionKey: 'status', sortKey: 'dateCreated' },
  /** Runs of one task, newest first (`celerity tasks --name`). */
  byTaskName: { name: 'byTaskName', partitionKey: 'taskName', sortKey: 'dateCreated' },
} as const;

export type ResultIndex = keyof typeof RESULT_INDEXES;

/**
 * What the indexes carry besides their keys: the small fields a listing shows. The large ones
 * (args, kwargs, result, traceback) stay in the table, so an index write costs one unit, not
 * up to 400; a listing's reader fetches a row by id for them.
 */
export const SUMMARY_ATTRIBUTES = [
  'taskName',
  'status',
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
] as const satisfies readonly (keyof TaskResultRecord)[];

/** The non-key attributes an index projects: the summary, less that index's own keys. */
export function projectedAttributes(index: ResultIndex): string[] {
  const { partitionKey, sortKey } = RESULT_INDEXES[index];
  const keys: readonly string[] = [partitionKey, sortKey];
  return SUMMARY_ATTRIBUTES.filter((a) => !keys.includes(a));
}

/** One row as a listing returns it: the record without its large fields or lease token. */
export type TaskSummary = Pick<
  TaskResultRecord,
  'taskId' | 'dateCreated' | (typeof SUMMARY_ATTRIBUTES)[number]
>;
