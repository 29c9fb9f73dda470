import { type DynamoDBDocumentClient, PutCommand } from '@aws-sdk/lib-dynamodb';
import type { Envelope } from '../envelope/schema.ts';
import { notReady, READY_VALUES, unlessRefused } from '../results/progress.ts';
import type { TaskResultRecord } from '../results/record.ts';
import { READY_STATES, TaskState } from '../task/states.ts';

/**
 * Celery's own DynamoDB result backend (`celery/backends/dynamodb.py`, 5.2.6), as its reader sees
 * an item: `id` (S) the key, `result` (B) the JSON-encoded meta, `timestamp` (N) seconds, and
 * `ttl` (N) when the backend's URL sets `ttl_seconds`. A Python app with
 * `result_backend = 'dynamodb://…/<table>'` reads what this writes through `AsyncResult`.
 */
export const CELERY_ITEM = {
  key: 'id',
  value: 'result',
  timestamp: 'timestamp',
  /** Celery's TTL attribute: with it, a reader whose URL sets `ttl_seconds` finds TTL already on. */
  ttl: 'ttl',
  /**
   * Ours, not Celery's (its reader takes only the three above): the state in plain text, so a
   * progress write can be refused once the task is finished without decoding `result`.
   */
  state: 'state',
} as const;

/**
 * The item's key for a task. Celery 5.2.6 builds the key as bytes and stores `str()` of it, so the
 * key reads `b'celery-task-meta-<id>'`, quotes and all (celery/celery#5455, open): every Celery
 * reader looks it up so, and so must a writer whose items it should find.
 */
export function celeryResultKey(taskId: string): string {
  return `b'celery-task-meta-${taskId}'`;
}

/** Celery's meta with `result_extended` off: what `AsyncResult` decodes. */
export interface CeleryMeta {
  status: string;
  result: unknown;
  traceback: string | null;
  children: unknown[] | null;
  /** Naive UTC ISO time, as Celery's `datetime.utcnow().isoformat()`; null until a ready state. */
  date_done: string | null;
  task_id: string;
  parent_id?: string;
  group_id?: string;
}

/** Celery's serialized exception (`Backend.prepare_exception` with the json serializer). */
export interface CeleryException {
  exc_type: string;
  exc_message: unknown[];
  exc_module: string | null;
}

/** What a Celery-originated task's outcome carries besides its row: the ids Celery's meta keeps. */
export interface CeleryLinks {
  parentId?: string | undefined;
  groupId?: string | undefined;
}

/** Error names a Python reader rebuilds as Python's own class (`builtins`). */
const PYTHON_BUILTIN_ERRORS = new Set([
  'ArithmeticError',
  'AssertionError',
  'AttributeError',
  'ConnectionError',
  'Exception',
  'FileNotFoundError',
  'IndexError',
  'KeyError',
  'LookupError',
  'NotImplementedError',
  'OSError',
  'OverflowError',
  'PermissionError',
  'RuntimeError',
  'TimeoutError',
  'TypeError',
  'ValueError',
  'ZeroDivisionError',
]);

/** Celerity's errors that are Celery's own, by the name `celery.exceptions` gives them. */
const CELERY_ERRORS: Readonly<Record<string, string>> = {
  TimeLimitExceeded: 'TimeLimitExceeded',
  SoftTimeLimitExceeded: 'SoftTimeLimitExceeded',
  MaxRetriesExceeded: 'MaxRetriesExceededError',
  Reject: 'Reject',
  NotRegistered: 'NotRegistered',
  ChordError: 'ChordError',
  TaskRevokedError: 'TaskRevokedError',
};

/** Refusals that are kombu's own: a Celery app has `kombu.exceptions` loaded. */
const KOMBU_ERRORS: Readonly<Record<string, string>> = {
  ContentDisallowedError: 'ContentDisallowed',
};

/**
 * A recorded error as Celery serializes one. Python's builtins and Celery's exceptions keep their
 * module, so `get()` raises the class a Python caller catches; any other name gets no module,
 * and Celery makes an `Exception` subclass of that name (never an import of a module we name).
 */
export function celeryException(
  errorType: string | undefined,
  traceback: string | undefined,
): CeleryException {
  const type = errorType || 'Error';
  const firstLine = (traceback ?? '').split('\n', 1)[0] ?? '';
  const message = firstLine.startsWith(`${type}: `) ? firstLine.slice(type.length + 2) : firstLine;
  const celery = CELERY_ERRORS[type];
  if (celery) return { exc_type: celery, exc_message: [message], exc_module: 'celery.exceptions' };
  const kombu = KOMBU_ERRORS[type];
  if (kombu) return { exc_type: kombu, exc_message: [message], exc_module: 'kombu.exceptions' };
  if (PYTHON_BUILTIN_ERRORS.has(type))
    return { exc_type: type, exc_message: [message], exc_module: 'builtins' };
  return { exc_type: type, exc_message: [message], exc_module: null };
}

/** `2026-12-01T07:04:43.327000`: Celery's `date_done`, a naive UTC time with microseconds. */
export function celeryDate(iso: string | undefined, now: Date = new Date()): string {
  const at = iso ? new Date(iso) : now;
  return `${(Number.isNaN(at.getTime()) ? now : at).toISOString().slice(0, 23)}000`;
}

function parsed(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/**
 * A row as Celery's meta: SUCCESS's value, a custom state's meta (both `result`), or for FAILURE,
 * RETRY and REVOKED (Celery's `EXCEPTION_STATES`) the serialized exception and the traceback.
 * A REVOKED task's error is Celery's `TaskRevokedError` (`expired` or `revoked`).
 */
export function celeryMetaOf(record: TaskResultRecord, links: CeleryLinks = {}): CeleryMeta {
  const status = record.status;
  const ready = READY_STATES.has(status);
  let result: unknown;
  let traceback: string | null = null;
  if (status === TaskState.REVOKED) {
    const reason = record.errorType === 'TaskExpired' ? 'expired' : 'revoked';
    result = celeryException('TaskRevokedError', `TaskRevokedError: ${reason}`);
    traceback = record.traceback ?? null;
  } else if (status === TaskState.FAILURE || status === TaskState.RETRY) {
    result = celeryException(record.errorType, record.traceback);
    traceback = record.traceback ?? null;
  } else {
    result = parsed(record.result);
  }
  return {
    status,
    result,
    traceback,
    children: [],
    date_done: ready ? celeryDate(record.dateDone) : null,
    task_id: record.taskId,
    ...(links.parentId ? { parent_id: links.parentId } : {}),
    ...(links.groupId ? { group_id: links.groupId } : {}),
  };
}

/** The whole item Celery's backend would have put for this row. */
export function celeryItem(
  record: TaskResultRecord,
  links: CeleryLinks = {},
  now: number = Date.now(),
): Record<string, unknown> {
  const meta = celeryMetaOf(record, links);
  return {
    [CELERY_ITEM.key]: celeryResultKey(record.taskId),
    [CELERY_ITEM.value]: new TextEncoder().encode(JSON.stringify(meta)),
    [CELERY_ITEM.timestamp]: now / 1000,
    ...(record.expiresAt === undefined ? {} : { [CELERY_ITEM.ttl]: record.expiresAt }),
    [CELERY_ITEM.state]: record.status,
  };
}

/**
 * Whether a Celery client may read this task's outcome: it came in Celery's protocol, and its
 * call did not say `ignore_result=True` (the intake keeps that as `celery.ignoreResult`).
 */
export function owesCeleryItem(envelope: Envelope): boolean {
  const celery = envelope.celery as { ignoreResult?: boolean } | undefined;
  return celery !== undefined && celery.ignoreResult !== true;
}

/** One outcome to mirror: the recorded row and the ids Celery's meta keeps. */
export interface CeleryOutcome {
  record: TaskResultRecord;
  links?: CeleryLinks;
}

/**
 * Writes outcomes of Celery-originated tasks into a table laid out as Celery's DynamoDB backend.
 * It mirrors the results table, which stays the record: a mirror is written after its row, from it.
 */
export class CeleryResultWriter {
  readonly #dynamo: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: { dynamo: DynamoDBDocumentClient; table: string }) {
    this.#dynamo = options.dynamo;
    this.#table = options.table;
  }

  get table(): string {
    return this.#table;
  }

  /**
   * Mirrors each recorded outcome (ready or RETRY) with a plain put: the same row always makes the
   * same item, so writing it again on a redelivery is harmless. Returns the task ids not written
   * (each caller decides their fate); never throws for one item's fault.
   */
  async writeOutcomes(outcomes: readonly CeleryOutcome[], now: number = Date.now()): Promise<Set<string>> {
    const failed = new Set<string>();
    await Promise.all(
      outcomes.map(async ({ record, links }) => {
        try {
          await this.#dynamo.send(
            new PutCommand({ TableName: this.#table, Item: celeryItem(record, links, now) }),
          );
        } catch {
          failed.add(record.taskId);
        }
      }),
    );
    return failed;
  }

  /**
   * A running task's custom state (`ctx.updateState`), unless the item already holds a ready
   * state: a late progress write never hides an outcome. False when it was refused so.
   */
  async writeProgress(outcome: CeleryOutcome, now: number = Date.now()): Promise<boolean> {
    return unlessRefused(
      this.#dynamo.send(
        new PutCommand({
          TableName: this.#table,
          Item: celeryItem(outcome.record, outcome.links, now),
          ConditionExpression: `attribute_not_exists(#state) OR ${notReady('#state')}`,
          ExpressionAttributeNames: { '#state': CELERY_ITEM.state },
          ExpressionAttributeValues: READY_VALUES,
        }),
      ),
    );
  }
}
