import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { isAwsError } from '../aws/errors.ts';
import { decodeCursor, encodeCursor } from '../cursor.ts';
import { ValidationError } from '../errors.ts';
import { DEFAULT_PERIODIC_TASKS } from './defaults.ts';
import { PeriodicTaskConflictError, PeriodicTaskExistsError, PeriodicTaskNotFoundError } from './errors.ts';
import {
  type PeriodicTask,
  type PeriodicTaskInput,
  parsePeriodicTask,
  periodicTaskSchema,
  SCHEDULE_KINDS,
} from './model.ts';
import { envelopeInput, MAX_INPUT_BYTES } from './schedule-input.ts';
import { RUN_STATS_MARKER } from './sync-plan.ts';
import { translate } from './translate.ts';

/** The GSI every listing queries (no scans on request paths): one key for all rows, sorted by name. */
export const LIST_INDEX = { name: 'byName', partitionKey: 'listKey', value: 'periodic-task' } as const;
/** What a definition write puts in `lastWrite`; the stream filter lets it through (see sync-plan). */
export const DEFINITION_WRITE = 'definition';

/** A change to a periodic task: any of its fields as `add` takes them, or `null` to clear one. */
export type PeriodicTaskPatch = { [K in keyof PeriodicTaskInput]?: PeriodicTaskInput[K] | null };

const FIELDS = Object.keys(periodicTaskSchema.shape) as (keyof PeriodicTask)[];
const RUN_FIELDS = new Set<string>(['lastRunAt', 'totalRunCount']);
const UPDATE_ATTEMPTS = 3;

export interface PeriodicTaskStoreOptions {
  dynamo: DynamoDBDocumentClient;
  table: string;
  /** Refuse definitions of tasks no worker has registered (`task: ... is not a registered task`). */
  knownTask?: (name: string) => boolean;
  /** Celery's `timezone`: crontabs that name no zone are given it when written. */
  defaultTimezone?: string;
  clock?: () => Date;
}

/** A stored row: its definition, or why it no longer validates (hand-edited in the console). */
export type StoredPeriodicTask =
  | { name: string; definition: PeriodicTask }
  | { name: string; error: ValidationError };

export interface RunRecord {
  name: string;
  /** Runs to add to `totalRunCount`. */
  count: number;
  /** The latest run's scheduled time (django-celery-beat records when beat sent it). */
  lastRunAt: string;
}

/**
 * Parses a stored row: a clocked time that has passed is not refused (it ran, or `translate`
 * plans it DISABLED). The bookkeeping attributes are not part of the definition.
 */
export function definitionFromItem(item: Record<string, unknown>): PeriodicTask {
  const { [LIST_INDEX.partitionKey]: _list, [RUN_STATS_MARKER.attribute]: _write, ...rest } = item;
  const written = typeof rest.dateChanged === 'string' ? Date.parse(rest.dateChanged) : Number.NaN;
  return parsePeriodicTask(rest, {
    now: Number.isNaN(written) ? new Date(0) : new Date(written),
    stored: true,
  });
}

function storedFrom(item: Record<string, unknown>): StoredPeriodicTask {
  const name = String(item.name);
  try {
    return { name, definition: definitionFromItem(item) };
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return { name, error };
  }
}

const isConditionFailure = (error: unknown) => isAwsError(error, 'ConditionalCheckFailedException');

/**
 * The periodic-tasks table: django-celery-beat's `PeriodicTask` rows. Every write validates the
 * whole definition first, so a bad one is refused with the field named and nothing is written;
 * the table's stream then carries the change to the Scheduler.
 */
export class PeriodicTaskStore {
  readonly #dynamo: DynamoDBDocumentClient;
  readonly #table: string;
  readonly #knownTask: ((name: string) => boolean) | undefined;
  readonly #defaultTimezone: string;
  readonly #clock: () => Date;

  constructor(options: PeriodicTaskStoreOptions) {
    this.#dynamo = options.dynamo;
    this.#table = options.table;
    this.#knownTask = options.knownTask;
    this.#defaultTimezone = options.defaultTimezone ?? 'UTC';
    this.#clock = options.clock ?? (() => new Date());
  }

  get table(): string {
    return this.#table;
  }

  /** Validates a definition as a write would, without writing. */
  validate(input: unknown, now: Date = this.#clock()): PeriodicTask {
    const definition = parsePeriodicTask(input, {
      now,
      defaultTimezone: this.#defaultTimezone,
      ...(this.#knownTask ? { knownTask: this.#knownTask } : {}),
    });
    // The schedule's Input carries the envelope; refuse now what the Scheduler would refuse later.
    const bytes = Buffer.byteLength(envelopeInput(definition, translate(definition, { now })), 'utf8');
    if (bytes > MAX_INPUT_BYTES) {
      throw ValidationError.of(
        'args',
        `the task message would be ${bytes} bytes; a schedule carries at most ${MAX_INPUT_BYTES}`,
      );
    }
    return definition;
  }

  /** Creates a periodic task; throws `PeriodicTaskExists` if the name is taken. */
  async add(input: PeriodicTaskInput): Promise<PeriodicTask> {
    const now = this.#clock();
    const definition = { ...this.validate(input, now), dateChanged: now.toISOString() };
    try {
      await this.#dynamo.send(
        new PutCommand({
          TableName: this.#table,
          Item: this.#item(definition),
          ConditionExpression: 'attribute_not_exists(#name)',
          ExpressionAttributeNames: { '#name': 'name' },
        }),
      );
    } catch (error) {
      if (isConditionFailure(error)) throw new PeriodicTaskExistsError(definition.name);
      throw error;
    }
    return definition;
  }

  /** The stored definition, or undefined. Throws `ValidationError` if the row no longer validates. */
  async get(name: string): Promise<PeriodicTask | undefined> {
    const item = await this.#getItem(name);
    return item ? definitionFromItem(item) : undefined;
  }

  /**
   * Changes some fields (`null` clears one). Giving a schedule replaces the stored one, as picking
   * another schedule in Django admin does. The run statistics are left as they are unless given,
   * and a concurrent edit is detected (by `dateChanged`) and the patch applied again on top of it.
   */
  async update(name: string, patch: PeriodicTaskPatch): Promise<PeriodicTask> {
    if ('name' in patch && patch.name !== name) {
      throw ValidationError.of(
        'name',
        'cannot be changed; add a periodic task under the new name and remove this one',
      );
    }
    for (let attempt = 0; attempt < UPDATE_ATTEMPTS; attempt++) {
      const item = await this.#getItem(name);
      if (!item) throw new PeriodicTaskNotFoundError(name);
      const stored = { ...item } as Record<string, unknown>;
      delete stored[LIST_INDEX.partitionKey];
      delete stored[RUN_STATS_MARKER.attribute];
      if (SCHEDULE_KINDS.some((kind) => patch[kind] !== undefined && patch[kind] !== null)) {
        for (const kind of SCHEDULE_KINDS) delete stored[kind];
      }
      const now = this.#clock();
      // A clocked time that has passed stays acceptable unless the patch sets a new one.
      const judgedAt = 'clocked' in patch || !stored.dateChanged ? now : new Date(String(stored.dateChanged));
      const merged = { ...stored, ...patch, dateChanged: undefined };
      const definition = { ...this.validate(merged, judgedAt), dateChanged: now.toISOString() };
      try {
        await this.#writeDefinition(definition, stored.dateChanged as string | undefined, patch);
        return definition;
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
      }
    }
    throw new PeriodicTaskConflictError(name);
  }

  /** Django admin's "Enable/Disable selected periodic tasks". */
  setEnabled(name: string, enabled: boolean): Promise<PeriodicTask> {
    return this.update(name, { enabled });
  }

  /** Deletes the row (the stream deletes its schedule). False if there was none. */
  async remove(name: string): Promise<boolean> {
    if (!name) throw ValidationError.of('name', 'is required');
    try {
      await this.#dynamo.send(
        new DeleteCommand({
          TableName: this.#table,
          Key: { name },
          ConditionExpression: 'attribute_exists(#name)',
          ExpressionAttributeNames: { '#name': 'name' },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /** One page of periodic tasks by name, from the index (a query, not a scan). */
  async list(options: { limit?: number; cursor?: string } = {}): Promise<{
    items: StoredPeriodicTask[];
    cursor?: string;
  }> {
    const { Items = [], LastEvaluatedKey } = await this.#dynamo.send(
      new QueryCommand({
        TableName: this.#table,
        IndexName: LIST_INDEX.name,
        KeyConditionExpression: '#list = :list',
        ExpressionAttributeNames: { '#list': LIST_INDEX.partitionKey },
        ExpressionAttributeValues: { ':list': LIST_INDEX.value },
        Limit: options.limit ?? 100,
        ...(options.cursor ? { ExclusiveStartKey: decodeCursor(options.cursor, isListKey) } : {}),
      }),
    );
    return {
      items: Items.map(storedFrom),
      ...(LastEvaluatedKey ? { cursor: encodeCursor(LastEvaluatedKey) } : {}),
    };
  }

  /**
   * Every row, read from the table itself (not the index, which may lag a write). For reconcile,
   * which must see the whole table whatever it costs; listings for people use `list`.
   */
  async *all(): AsyncGenerator<StoredPeriodicTask> {
    let start: Record<string, unknown> | undefined;
    do {
      const page = await this.#dynamo.send(
        new ScanCommand({ TableName: this.#table, ConsistentRead: true, ExclusiveStartKey: start }),
      );
      for (const item of page.Items ?? []) yield storedFrom(item);
      start = page.LastEvaluatedKey;
    } while (start);
  }

  /**
   * Run statistics, written by the worker: exactly `lastRunAt`, `totalRunCount` and the marker
   * that lets the stream mapping drop the record, so a run never costs a Scheduler call.
   * Rows deleted meanwhile are skipped.
   */
  async recordRuns(runs: readonly RunRecord[]): Promise<void> {
    await Promise.all(
      runs.map(async (run) => {
        try {
          await this.#dynamo.send(
            new UpdateCommand({
              TableName: this.#table,
              Key: { name: run.name },
              UpdateExpression:
                'SET lastRunAt = :at, totalRunCount = if_not_exists(totalRunCount, :zero) + :count, #write = :run',
              ConditionExpression: 'attribute_exists(#name)',
              ExpressionAttributeNames: { '#name': 'name', '#write': RUN_STATS_MARKER.attribute },
              ExpressionAttributeValues: {
                ':at': run.lastRunAt,
                ':zero': 0,
                ':count': run.count,
                ':run': RUN_STATS_MARKER.value,
              },
            }),
          );
        } catch (error) {
          if (!isConditionFailure(error)) throw error;
        }
      }),
    );
  }

  /**
   * django-celery-beat's `one_off`: disabled after its run. A definition write (it changes
   * `enabled`), so the stream disables the schedule. False if it was already disabled or removed.
   */
  async disableOneOff(name: string): Promise<boolean> {
    try {
      await this.#dynamo.send(
        new UpdateCommand({
          TableName: this.#table,
          Key: { name },
          UpdateExpression: 'SET enabled = :false, dateChanged = :now, #write = :write',
          ConditionExpression: 'attribute_exists(#name) AND enabled = :true',
          ExpressionAttributeNames: { '#name': 'name', '#write': RUN_STATS_MARKER.attribute },
          ExpressionAttributeValues: {
            ':false': false,
            ':true': true,
            ':now': this.#clock().toISOString(),
            ':write': DEFINITION_WRITE,
          },
        }),
      );
      return true;
    } catch (error) {
      if (isConditionFailure(error)) return false;
      throw error;
    }
  }

  /**
   * The seed's `setup_periodic_tasks`: creates the default periodic tasks that do not exist yet.
   * Running it again changes nothing (existing rows, their edits and run statistics are kept).
   */
  async setupDefaults(
    defaults: readonly PeriodicTaskInput[] = DEFAULT_PERIODIC_TASKS,
  ): Promise<{ created: string[]; existing: string[] }> {
    const created: string[] = [];
    const existing: string[] = [];
    for (const input of defaults) {
      try {
        created.push((await this.add(input)).name);
      } catch (error) {
        if (!(error instanceof PeriodicTaskExistsError)) throw error;
        existing.push(error.periodicTask);
      }
    }
    return { created, existing };
  }

  #item(definition: PeriodicTask): Record<string, unknown> {
    return {
      ...definition,
      [LIST_INDEX.partitionKey]: LIST_INDEX.value,
      [RUN_STATS_MARKER.attribute]: DEFINITION_WRITE,
    };
  }

  async #getItem(name: string): Promise<Record<string, unknown> | undefined> {
    if (!name) throw ValidationError.of('name', 'is required');
    const { Item } = await this.#dynamo.send(
      new GetCommand({ TableName: this.#table, Key: { name }, ConsistentRead: true }),
    );
    return Item;
  }

  /** SET what the definition has, REMOVE what it lacks; run statistics only if the patch gives them. */
  async #writeDefinition(
    definition: PeriodicTask,
    previousDateChanged: string | undefined,
    patch: Record<string, unknown>,
  ): Promise<void> {
    const names: Record<string, string> = { '#name': 'name' };
    const values: Record<string, unknown> = {};
    const set: string[] = [];
    const remove: string[] = [];
    const item = this.#item(definition);
    const fields = [...FIELDS, LIST_INDEX.partitionKey, RUN_STATS_MARKER.attribute];
    fields.forEach((field, index) => {
      if (field === 'name' || (RUN_FIELDS.has(field) && !(field in patch))) return;
      names[`#f${index}`] = field;
      const value = item[field];
      if (value === undefined) remove.push(`#f${index}`);
      else {
        values[`:v${index}`] = value;
        set.push(`#f${index} = :v${index}`);
      }
    });
    let condition = 'attribute_exists(#name)';
    if (previousDateChanged) {
      condition += ' AND #changed = :previous';
      names['#changed'] = 'dateChanged';
      values[':previous'] = previousDateChanged;
    }
    await this.#dynamo.send(
      new UpdateCommand({
        TableName: this.#table,
        Key: { name: definition.name },
        UpdateExpression: `SET ${set.join(', ')}${remove.length ? ` REMOVE ${remove.join(', ')}` : ''}`,
        ConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
      }),
    );
  }
}

/** Exactly the index's key, as `list` returned it: anything else DynamoDB would refuse (a 500). */
function isListKey(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const key = value as Record<string, unknown>;
  return (
    Object.keys(key).sort().join(',') === `${LIST_INDEX.partitionKey},name` &&
    key[LIST_INDEX.partitionKey] === LIST_INDEX.value &&
    typeof key.name === 'string' &&
    key.name.length > 0
  );
}
