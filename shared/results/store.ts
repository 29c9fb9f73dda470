import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { type DynamoDBDocumentClient, GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { ValidationError } from '../errors.ts';
import { TaskState } from '../task/states.ts';
import { fitItem, type TaskResultRecord } from './record.ts';
import { type TransactOutcome, transactWriteEach } from './transact.ts';

/** A run asking to hold a task: the claim that makes a redelivered message harmless. */
export interface ClaimRequest {
  taskId: string;
  taskName: string;
  retries: number;
  args: string;
  kwargs: string;
  queue: string | undefined;
  origin: string | undefined;
  periodicTask: string | undefined;
  eta: string | undefined;
  dateCreated: string;
  worker: string;
  trackStarted: boolean;
  leaseUntil: number;
  leaseToken: string;
  expiresAt: number;
}

export type ClaimOutcome =
  | { claimed: true }
  /** The task reached a ready state (SUCCESS, FAILURE, REVOKED): the message is done with. */
  | { claimed: false; why: 'finished'; status: TaskState }
  /** Another run holds a live lease: this delivery must come back later. */
  | { claimed: false; why: 'in-flight' }
  /** The message is an older attempt than the one already recorded: drop it. */
  | { claimed: false; why: 'stale' }
  | { claimed: false; why: 'error'; message: string };

/**
 * An outcome to record: by the run holding the lease, or (`leaseToken` absent) for a poison message.
 * A field set to `null` is removed (a success clears the traceback of an earlier attempt).
 */
export type Completion = {
  [K in keyof Omit<TaskResultRecord, 'leaseUntil' | 'leaseToken'>]:
    | TaskResultRecord[K]
    | (K extends 'taskId' | 'status' ? never : null);
} & { leaseToken?: string };

const FINISHED = [TaskState.SUCCESS, TaskState.FAILURE, TaskState.REVOKED];

function sizeOf(values: Record<string, unknown>): number {
  let bytes = 0;
  for (const value of Object.values(values)) bytes += typeof value === 'string' ? value.length : 16;
  return bytes + 200;
}

/** The results table: django-celery-results' `TaskResult`, on DynamoDB. */
export class ResultStore {
  readonly #dynamo: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: { dynamo: DynamoDBDocumentClient; table: string }) {
    this.#dynamo = options.dynamo;
    this.#table = options.table;
  }

  get table(): string {
    return this.#table;
  }

  /** A task's row, or undefined when none exists or its TTL has passed (TTL deletes lazily). */
  async get(taskId: string): Promise<TaskResultRecord | undefined> {
    if (!taskId) throw ValidationError.of('taskId', 'is required');
    const { Item } = await this.#dynamo.send(
      new GetCommand({ TableName: this.#table, Key: { taskId }, ConsistentRead: true }),
    );
    const record = Item as TaskResultRecord | undefined;
    if (record?.expiresAt !== undefined && record.expiresAt * 1000 < Date.now()) return undefined;
    return record;
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
          UpdateExpression: 'SET #status = :revoked, dateDone = :now, expiresAt = :expiresAt',
          ConditionExpression: 'attribute_not_exists(taskId) OR NOT #status IN (:success, :failure)',
          ExpressionAttributeNames: { '#status': 'status' },
          ExpressionAttributeValues: {
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
      if (error instanceof ConditionalCheckFailedException) {
        return (error.Item?.status?.S as TaskState | undefined) ?? TaskState.SUCCESS;
      }
      throw error;
    }
  }

  /**
   * Claims many tasks in as few requests as DynamoDB allows. A claim succeeds when the task is not
   * finished, no other run holds a live lease, and the message is not older than the last attempt.
   */
  async claim(requests: readonly ClaimRequest[], now: number = Date.now()): Promise<ClaimOutcome[]> {
    const items = requests.map((request) => ({
      Update: {
        TableName: this.#table,
        Key: { taskId: request.taskId },
        UpdateExpression: [
          'SET #status = ',
          request.trackStarted ? ':started' : 'if_not_exists(#status, :pending)',
          ', taskName = :taskName, args = :args, kwargs = :kwargs, retries = :retries',
          ', dateCreated = if_not_exists(dateCreated, :dateCreated), dateStarted = :dateStarted',
          ', worker = :worker, expiresAt = :expiresAt, leaseUntil = :leaseUntil, leaseToken = :leaseToken',
          request.queue === undefined ? '' : ', queue = :queue',
          request.origin === undefined ? '' : ', origin = :origin',
          request.periodicTask === undefined ? '' : ', periodicTask = :periodicTask',
          request.eta === undefined ? '' : ', eta = :eta',
        ].join(''),
        ConditionExpression:
          '(attribute_not_exists(#status) OR NOT #status IN (:success, :failure, :revoked))' +
          ' AND (attribute_not_exists(leaseUntil) OR leaseUntil < :now)' +
          ' AND (attribute_not_exists(retries) OR retries <= :retries)',
        ExpressionAttributeNames: { '#status': 'status' },
        ExpressionAttributeValues: {
          ...(request.trackStarted ? { ':started': TaskState.STARTED } : { ':pending': TaskState.PENDING }),
          ':success': TaskState.SUCCESS,
          ':failure': TaskState.FAILURE,
          ':revoked': TaskState.REVOKED,
          ':now': now,
          ':taskName': request.taskName,
          ':args': request.args,
          ':kwargs': request.kwargs,
          ':retries': request.retries,
          ':dateCreated': request.dateCreated,
          ':dateStarted': new Date(now).toISOString(),
          ':worker': request.worker,
          ':expiresAt': request.expiresAt,
          ':leaseUntil': request.leaseUntil,
          ':leaseToken': request.leaseToken,
          ...(request.queue === undefined ? {} : { ':queue': request.queue }),
          ...(request.origin === undefined ? {} : { ':origin': request.origin }),
          ...(request.periodicTask === undefined ? {} : { ':periodicTask': request.periodicTask }),
          ...(request.eta === undefined ? {} : { ':eta': request.eta }),
        },
        ReturnValuesOnConditionCheckFailure: 'ALL_OLD' as const,
      },
    }));
    const outcomes = await transactWriteEach(
      this.#dynamo,
      items,
      requests.map((r) => sizeOf({ a: r.args, k: r.kwargs })),
    );
    return outcomes.map((outcome, index) => toClaimOutcome(outcome, requests[index] as ClaimRequest, now));
  }

  /**
   * Records outcomes in as few requests as DynamoDB allows. An outcome with a lease token is written
   * only while that run still holds the task (a revoke in the meantime wins); one without (a poison
   * message) never overwrites a success or a revoke.
   */
  async complete(completions: readonly Completion[]): Promise<TransactOutcome[]> {
    const items = completions.map((completion) => {
      const { taskId, leaseToken, ...fields } = fitItem({ ...completion } as TaskResultRecord) as Completion;
      const names: Record<string, string> = { '#status': 'status' };
      const values: Record<string, unknown> = {};
      const sets: string[] = [];
      const removes = ['leaseUntil', 'leaseToken'];
      for (const [key, value] of Object.entries(fields)) {
        if (value === undefined) continue;
        if (value === null) {
          removes.push(key);
          continue;
        }
        names[`#${key}`] = key;
        values[`:${key}`] = value;
        sets.push(`#${key} = :${key}`);
      }
      let condition: string;
      if (leaseToken === undefined) {
        condition = 'attribute_not_exists(#status) OR NOT #status IN (:success, :revoked)';
        values[':success'] = TaskState.SUCCESS;
        values[':revoked'] = TaskState.REVOKED;
      } else {
        condition = 'leaseToken = :leaseToken AND #status <> :revoked';
        values[':leaseToken'] = leaseToken;
        values[':revoked'] = TaskState.REVOKED;
      }
      return {
        Update: {
          TableName: this.#table,
          Key: { taskId },
          UpdateExpression: `SET ${sets.join(', ')} REMOVE ${removes.join(', ')}`,
          ConditionExpression: condition,
          ExpressionAttributeNames: names,
          ExpressionAttributeValues: values,
        },
      };
    });
    return transactWriteEach(
      this.#dynamo,
      items,
      completions.map((c) => sizeOf(c as unknown as Record<string, unknown>)),
    );
  }
}

function toClaimOutcome(outcome: TransactOutcome, request: ClaimRequest, now: number): ClaimOutcome {
  if (outcome.ok) return { claimed: true };
  if (outcome.reason === 'error') return { claimed: false, why: 'error', message: outcome.message };
  const old = outcome.old ?? {};
  const status = old.status as TaskState | undefined;
  if (status && FINISHED.includes(status as (typeof FINISHED)[number])) {
    return { claimed: false, why: 'finished', status };
  }
  if (typeof old.retries === 'number' && old.retries > request.retries)
    return { claimed: false, why: 'stale' };
  if (typeof old.leaseUntil === 'number' && old.leaseUntil >= now)
    return { claimed: false, why: 'in-flight' };
  // The condition failed yet the image shows none of the reasons: treat it as busy and look again later.
  return { claimed: false, why: 'in-flight' };
}
