import {
  BatchGetCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { isAwsError } from '../aws/errors.ts';
import { ValidationError } from '../errors.ts';
import { createLogger } from '../log.ts';
import { TaskState } from '../task/states.ts';
import { type ClaimOutcome, type ClaimRequest, toClaimOutcome } from './claim-outcome.ts';
import { ALL, indexKey, RESULT_INDEXES, shardOf, withIndexKeys, withoutIndexKeys } from './indexes.ts';
import { listTasks, type TaskListPage, type TaskListQuery } from './listing.ts';
import { type StateChange, writeRunState } from './progress.ts';
import { fitItem, readableRecord, type TaskResultRecord } from './record.ts';
import { addStats } from './stats.ts';
import { type TransactOutcome, transactWriteEach } from './transact.ts';

export type { ClaimOutcome, ClaimRequest };

/**
 * An outcome to record, as the whole row. `heldBy` is the lease token of the run that reports it:
 * the row is written only while that run still holds the task. Without it (a poison message, whose
 * body never ran), the row is marked `poison` and written only where no run has written.
 */
export interface Completion {
  record: TaskResultRecord;
  heldBy?: string;
}

/**
 * What a row weighs against a transaction's 4 MB, in UTF-8 bytes as DynamoDB counts them: every
 * attribute name and string value, numbers at their largest, and the request's own framing.
 */
export function sizeOf(record: object): number {
  let bytes = 200;
  for (const [name, value] of Object.entries(record)) {
    if (value === undefined) continue;
    bytes += Buffer.byteLength(name);
    if (typeof value === 'string') bytes += Buffer.byteLength(value);
    else if (Array.isArray(value)) for (const item of value) bytes += Buffer.byteLength(String(item)) + 3;
    else bytes += 21;
  }
  return bytes;
}

/** The results table: django-celery-results' `TaskResult`, on DynamoDB. */
export class ResultStore {
  readonly #dynamo: DynamoDBDocumentClient;
  readonly #table: string;

  readonly #onStatsError: (error: unknown) => void;

  /** `onStatsError`: told when a batch's stats counters could not be added (its outcomes were). */
  constructor(options: {
    dynamo: DynamoDBDocumentClient;
    table: string;
    onStatsError?: (error: unknown) => void;
  }) {
    this.#dynamo = options.dynamo;
    this.#table = options.table;
    this.#onStatsError =
      options.onStatsError ??
      ((error: unknown) =>
        createLogger({ component: 'result-store' }).warn('stats counters not added for a batch', {
          error: error instanceof Error ? `${error.name}: ${error.message}` : String(error),
        }));
  }

  get table(): string {
    return this.#table;
  }

  /** The client it writes with: canvas records (groups, chords) share the table and its client. */
  get dynamo(): DynamoDBDocumentClient {
    return this.#dynamo;
  }

  /** A task's row, or undefined when none exists or its TTL has passed (TTL deletes lazily). */
  async get(taskId: string): Promise<TaskResultRecord | undefined> {
    if (!taskId) throw ValidationError.of('taskId', 'is required');
    const { Item } = await this.#dynamo.send(
      new GetCommand({ TableName: this.#table, Key: { taskId }, ConsistentRead: true }),
    );
    const record = Item as TaskResultRecord | undefined;
    if (!record || (record.expiresAt !== undefined && record.expiresAt * 1000 < Date.now())) return undefined;
    return readableRecord(withoutIndexKeys(record));
  }

  /** Many rows by id, 100 to a `BatchGetItem` (missing and expired ones left out). */
  async getMany(taskIds: readonly string[]): Promise<TaskResultRecord[]> {
    const found: TaskResultRecord[] = [];
    for (let i = 0; i < taskIds.length; i += 100) {
      let keys: Record<string, unknown>[] = taskIds.slice(i, i + 100).map((taskId) => ({ taskId }));
      for (let round = 0; keys.length > 0 && round < 5; round++) {
        const out = await this.#dynamo.send(
          new BatchGetCommand({ RequestItems: { [this.#table]: { Keys: keys, ConsistentRead: true } } }),
        );
        for (const item of out.Responses?.[this.#table] ?? []) {
          const record = item as TaskResultRecord;
          if (record.expiresAt !== undefined && record.expiresAt * 1000 < Date.now()) continue;
          found.push(readableRecord(withoutIndexKeys(record)));
        }
        keys = (out.UnprocessedKeys?.[this.#table]?.Keys ?? []) as Record<string, unknown>[];
      }
    }
    return found;
  }

  /**
   * Notes on a FAILURE row the id of the task that re-sends it, once: a second retry or replay of
   * the same row (two admins at once, a replay run twice) finds it taken and sends nothing.
   */
  async markReplayed(taskId: string, newId: string): Promise<boolean> {
    try {
      await this.#dynamo.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { taskId },
          UpdateExpression: 'SET replayedAs = :newId',
          ConditionExpression: '#status = :failure AND attribute_not_exists(replayedAs)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: { ':newId': newId, ':failure': TaskState.FAILURE },
        }),
      );
      return true;
    } catch (error) {
      if (isAwsError(error, 'ConditionalCheckFailedException')) return false;
      throw error;
    }
  }

  /** Takes back `markReplayed` when the send it promised did not happen. */
  async unmarkReplayed(taskId: string, newId: string): Promise<void> {
    await this.#dynamo
      .send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { taskId },
          UpdateExpression: 'REMOVE replayedAs',
          ConditionExpression: 'replayedAs = :newId',
          ExpressionAttributeValues: { ':newId': newId },
        }),
      )
      .catch((error: unknown) => {
        if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
      });
  }

  /**
   * Marks a task REVOKED unless it already finished; a worker that later receives it records
   * nothing and runs nothing. Like Celery without `terminate`, a run already going is not stopped.
   */
  async revoke(taskId: string, options: { expiresAt: number; now?: Date }): Promise<'revoked' | TaskState> {
    if (!taskId) throw ValidationError.of('taskId', 'is required');
    try {
      await this.#dynamo.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { taskId },
          // A task revoked before any worker saw it gets a creation time, so listings show it.
          UpdateExpression:
            'SET #status = :revoked, dateDone = :now, expiresAt = :expiresAt, dateCreated = if_not_exists(dateCreated, :now), #lkStatus = :lkStatus, #lkAll = :lkAll, #lkDone = :lkDone',
          ConditionExpression: 'attribute_not_exists(taskId) OR NOT #status IN (:success, :failure)',
          ExpressionAttributeNames: {
            '#status': 'status',
            '#lkStatus': RESULT_INDEXES.byStatus.partitionKey,
            '#lkAll': RESULT_INDEXES.byCreated.partitionKey,
            '#lkDone': RESULT_INDEXES.byDone.partitionKey,
          },
          ExpressionAttributeValues: {
            ':lkStatus': indexKey(TaskState.REVOKED, shardOf(taskId, RESULT_INDEXES.byStatus.shards)),
            ':lkAll': indexKey(ALL, shardOf(taskId, RESULT_INDEXES.byCreated.shards)),
            ':lkDone': indexKey(ALL, shardOf(taskId, RESULT_INDEXES.byDone.shards)),
            ':revoked': TaskState.REVOKED,
            ':success': TaskState.SUCCESS,
            ':failure': TaskState.FAILURE,
            ':now': (options.now ?? new Date()).toISOString(),
            ':expiresAt': options.expiresAt,
          },
          ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
        }),
      );
      return 'revoked';
    } catch (error) {
      if (isAwsError(error, 'ConditionalCheckFailedException')) {
        return (error.Item?.status?.S as TaskState | undefined) ?? TaskState.SUCCESS;
      }
      throw error;
    }
  }

  /** A running task's custom state, under its run's lease (`ctx.updateState`; see `writeRunState`). */
  updateState(change: StateChange): Promise<boolean> {
    return writeRunState(this.#dynamo, this.#table, change);
  }

  /** A page of task summaries, newest first, from the listing indexes (never a scan). */
  list(query: TaskListQuery = {}, now: Date = new Date()): Promise<TaskListPage> {
    return listTasks(this.#dynamo, this.#table, query, now);
  }

  /**
   * Claims many tasks in as few requests as DynamoDB allows. A claim succeeds when the task is not
   * finished, no other run holds a live lease, and the message is not older than the last attempt.
   */
  async claim(requests: readonly ClaimRequest[], now: number = Date.now()): Promise<ClaimOutcome[]> {
    // Whole-row puts rather than updates: a row's every field is known here, and an emulator's
    // update-expression parser costs ten times a put.
    const items = requests.map((request) => ({
      Put: {
        TableName: this.#table,
        Item: withIndexKeys(fitItem(request)),
        ConditionExpression:
          // A poison FAILURE (the body never ran) may be taken over: a redriven message runs.
          '(attribute_not_exists(#status) OR NOT #status IN (:success, :failure, :revoked) OR poison = :true)' +
          ' AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)' +
          ' AND (attribute_not_exists(retries) OR retries <= :retries)' +
          // Another task's row (a different message reusing the id) is never taken over, even between its retries.
          (request.envelopeDigest === undefined
            ? ''
            : ' AND (attribute_not_exists(envelopeDigest) OR envelopeDigest = :digest OR poison = :true)'),
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ':success': TaskState.SUCCESS,
          ':failure': TaskState.FAILURE,
          ':revoked': TaskState.REVOKED,
          ':true': true,
          ':now': now,
          ':retries': request.retries,
          ...(request.envelopeDigest === undefined ? {} : { ':digest': request.envelopeDigest }),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    }));
    const outcomes = await transactWriteEach(
      this.#dynamo,
      items,
      items.map((item) => sizeOf(item.Put.Item)),
    );
    return outcomes.map((outcome, index) => toClaimOutcome(outcome, requests[index] as ClaimRequest, now));
  }

  /**
   * Notes on a task's row that a message for another task came with its id and was not run; only
   * while the row is still that task's (`digest`). Nothing else of the row changes.
   */
  async noteReuse(taskId: string, digest: string, note: string): Promise<void> {
    try {
      await this.#dynamo.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { taskId },
          UpdateExpression: 'SET idReused = :note',
          ConditionExpression: 'envelopeDigest = :digest',
          ExpressionAttributeValues: { ':note': note, ':digest': digest },
        }),
      );
    } catch (error) {
      // The row changed hands (expired, taken over): there is nothing left to note it on.
      if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
    }
  }

  /**
   * Records outcomes in as few requests as DynamoDB allows. An outcome with a lease token is written
   * only while that run still holds the task (a revoke in the meantime wins). One without (a
   * poison message: its body never ran) is written only where no run ever wrote: no row yet, or
   * another poison row. It never overwrites a live lease, a real run's outcome or a revoke.
   */
  async complete(completions: readonly Completion[]): Promise<TransactOutcome[]> {
    const items = completions.map(({ record, heldBy }) => {
      const { leaseUntil: _until, leaseToken: _token, poison: _poison, ...row } = record;
      // A poison message's row has no creation time; without one the listing indexes miss it.
      const dateCreated = row.dateCreated ?? row.dateStarted ?? row.dateDone;
      const item = withIndexKeys(
        fitItem({
          ...row,
          ...(dateCreated ? { dateCreated } : {}),
          ...(heldBy === undefined ? { poison: true } : {}),
        }),
      );
      return {
        Put: {
          TableName: this.#table,
          Item: item,
          ConditionExpression:
            heldBy === undefined
              ? 'attribute_not_exists(taskId) OR poison = :true'
              : 'leaseToken = :heldBy AND #status <> :revoked',
          // A run's refused outcome returns the row that refused it (a revoke, another run's lease).
          ...(heldBy === undefined
            ? {}
            : {
                ExpressionAttributeNames: { '#status': 'status' },
                ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
              }),
          ExpressionAttributeValues:
            heldBy === undefined ? { ':true': true } : { ':heldBy': heldBy, ':revoked': TaskState.REVOKED },
        },
      };
    });
    const outcomes = await transactWriteEach(
      this.#dynamo,
      items,
      items.map((item) => sizeOf(item.Put.Item)),
    );
    const recorded = items.filter((_, i) => outcomes[i]?.ok).map((item) => item.Put.Item);
    // Counters are a view, not the record: losing one batch's increments (throttling, a denied
    // grant) must never send its tasks back to run again, so their fault ends here, said once.
    await addStats(this.#dynamo, this.#table, recorded).catch((error: unknown) => {
      this.#onStatsError(error);
    });
    return outcomes;
  }

  /**
   * Records rows for tasks that will never run (the rest of a failed chain: Celery's
   * `mark_as_failure` on each member), each only where no row exists: a row a run holds or
   * finished, or a revoke, is never overwritten, and writing the same row twice changes nothing.
   * Returns how many were written.
   */
  async recordUnrun(records: readonly TaskResultRecord[]): Promise<number> {
    const written = await Promise.all(
      records.map(async (record) => {
        try {
          await this.#dynamo.send(
            new PutCommand({
              TableName: this.#table,
              Item: withIndexKeys(fitItem(record)),
              ConditionExpression: 'attribute_not_exists(taskId)',
            }),
          );
          return 1;
        } catch (error) {
          if (isAwsError(error, 'ConditionalCheckFailedException')) return 0;
          throw error;
        }
      }),
    );
    return written.reduce<number>((a, b) => a + b, 0);
  }

  /** Notes on a task's row the ids it sent when it finished (Celery's `children`), if the row is there. */
  async noteChildren(taskId: string, children: readonly string[]): Promise<void> {
    try {
      await this.#dynamo.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { taskId },
          UpdateExpression: 'SET children = :children',
          ConditionExpression: 'attribute_exists(taskId)',
          ExpressionAttributeValues: { ':children': [...children] },
        }),
      );
    } catch (error) {
      if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
    }
  }
}
