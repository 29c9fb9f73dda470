import { getResultStore, revoke as revokeTask } from '../app-producer.ts';
import { mapLimit } from '../batches.ts';
import { AsyncResult, type GetOptions } from '../producer/async-result.ts';
import { ResultTimeoutError, TaskFailedError } from '../producer/errors.ts';
import type { TaskResultRecord } from '../results/record.ts';
import type { ResultStore } from '../results/store.ts';
import { READY_STATES, TaskState } from '../task/states.ts';
import { GroupNotFoundError } from './chord-errors.ts';
import { chunksOf, readGroupRecord } from './group-store.ts';

/** BatchGetItem's 100 keys a request, a few requests at once. */
const READ_CONCURRENCY = 8;

export interface GroupResultOptions {
  /** @defaultValue the app's result store */
  store?: ResultStore;
  /** @defaultValue the app's `revoke` */
  revoke?: (id: string) => Promise<unknown>;
}

/**
 * A handle on a group's members' outcomes, in member order (Celery's `GroupResult`). Reads the
 * members' rows 100 a `BatchGetItem`; rows already ready are not read again.
 */
export class GroupResult<R = unknown> {
  readonly id: string;
  readonly #ids: readonly string[];
  readonly #store: ResultStore | undefined;
  readonly #revoke: (id: string) => Promise<unknown>;
  readonly #rows = new Map<string, TaskResultRecord>();

  /** `records`: rows already known (an eager group's), which are not read again. */
  constructor(
    id: string,
    memberIds: readonly string[],
    options: GroupResultOptions & { records?: readonly TaskResultRecord[] } = {},
  ) {
    this.id = id;
    this.#ids = [...memberIds];
    this.#store = options.store;
    this.#revoke = options.revoke ?? revokeTask;
    for (const row of options.records ?? []) this.#rows.set(row.taskId, row);
  }

  /** The app's store unless one was given, found only when a row must be read. */
  get #reader(): ResultStore {
    return this.#store ?? getResultStore();
  }

  /** The group applied under `id`, from its record (Celery's `GroupResult.restore`). */
  static async restore<R = unknown>(id: string, options: GroupResultOptions = {}): Promise<GroupResult<R>> {
    const store = options.store ?? getResultStore();
    const record = await readGroupRecord(store.dynamo, store.table, id);
    if (!record) throw new GroupNotFoundError(id, 'no such group (never applied, or its record expired)');
    return new GroupResult<R>(id, record.memberIds, { ...options, store });
  }

  /** Each member's `AsyncResult`, in member order, as the last read saw it. */
  get results(): AsyncResult<R>[] {
    return this.#ids.map((id) => {
      const record = this.#rows.get(id);
      const ready = record !== undefined && READY_STATES.has(record.status);
      return new AsyncResult<R>(id, {
        ...(ready ? {} : { store: this.#reader }),
        revoke: this.#revoke,
        ...(record ? { record } : {}),
      });
    });
  }

  /** Reads the rows of the members not yet ready. */
  async refresh(): Promise<this> {
    const pending = this.#ids.filter(
      (id) => !READY_STATES.has(this.#rows.get(id)?.status ?? TaskState.PENDING),
    );
    await mapLimit(chunksOf(pending, 100), READ_CONCURRENCY, async (ids) => {
      for (const row of await this.#reader.getMany(ids)) this.#rows.set(row.taskId, row);
    });
    return this;
  }

  #states(): TaskState[] {
    return this.#ids.map((id) => this.#rows.get(id)?.status ?? TaskState.PENDING);
  }

  /** How many members succeeded (Celery's `completed_count`). */
  async completedCount(): Promise<number> {
    await this.refresh();
    return this.#states().filter((s) => s === TaskState.SUCCESS).length;
  }

  /** Whether every member is ready (SUCCESS, FAILURE or REVOKED). */
  async ready(): Promise<boolean> {
    await this.refresh();
    return this.#states().every((s) => READY_STATES.has(s));
  }

  /** Whether every member succeeded. */
  async successful(): Promise<boolean> {
    await this.refresh();
    return this.#states().every((s) => s === TaskState.SUCCESS);
  }

  /** Whether any member failed. */
  async failed(): Promise<boolean> {
    await this.refresh();
    return this.#states().some((s) => s === TaskState.FAILURE);
  }

  /** Whether any member is not ready yet (Celery's `waiting`). */
  async waiting(): Promise<boolean> {
    return !(await this.ready());
  }

  /**
   * Waits until every member is ready and returns their results in member order. With
   * `propagate` (the default, as in Celery) the first member in order that failed or was revoked
   * is thrown as a `TaskFailedError`; without, its error stands in its place.
   */
  async get(options: GetOptions = {}): Promise<(R | TaskFailedError)[]> {
    const interval = (options.interval ?? 0.5) * 1000;
    const started = Date.now();
    while (!(await this.ready())) {
      const waited = Date.now() - started;
      if (options.timeout !== undefined && waited >= options.timeout * 1000) {
        const pending = this.#ids.length - this.#states().filter((s) => READY_STATES.has(s)).length;
        throw new ResultTimeoutError(
          this.id,
          options.timeout,
          `${pending} of ${this.#ids.length} members not ready`,
        );
      }
      const left = options.timeout === undefined ? interval : options.timeout * 1000 - waited;
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(interval, left))));
    }
    return this.#ids.map((id) => {
      const row = this.#rows.get(id) as TaskResultRecord;
      if (row.status === TaskState.SUCCESS)
        return (row.result === undefined ? undefined : JSON.parse(row.result)) as R;
      const error = new TaskFailedError(id, row.status, row.errorType, row.traceback);
      if (options.propagate ?? true) throw error;
      return error;
    });
  }

  /** Revokes every member that has not finished (Celery's `GroupResult.revoke`). */
  async revoke(): Promise<void> {
    await mapLimit([...this.#ids], READ_CONCURRENCY, (id) => this.#revoke(id));
    this.#rows.clear();
  }
}
