import type { TaskResultRecord } from '../results/record.ts';
import type { ResultStore } from '../results/store.ts';
import { READY_STATES, type TaskState } from '../task/states.ts';
import { ResultTimeoutError, TaskFailedError } from './errors.ts';

export interface GetOptions {
  /** Seconds to wait for a ready state. @defaultValue wait without end, as Celery does */
  timeout?: number;
  /** Seconds between reads of the result store. @defaultValue 0.5 */
  interval?: number;
  /** Throw the task's error when it ended in FAILURE or REVOKED. @defaultValue true */
  propagate?: boolean;
}

/**
 * A handle on a task's outcome, read from the results table (Celery's `AsyncResult`). Methods that
 * read are async; `result`, `traceback` and `state` hold what the last read saw.
 */
export class AsyncResult<R = unknown> {
  readonly id: string;
  /** The result of the part before this one in a chain (Celery's `parent`), set by the chain that gave it. */
  parent: AsyncResult | undefined;
  readonly #store: ResultStore | undefined;
  readonly #revoke: ((id: string) => Promise<unknown>) | undefined;
  #record: TaskResultRecord | undefined;

  constructor(
    id: string,
    options: {
      store?: ResultStore;
      revoke?: (id: string) => Promise<unknown>;
      record?: TaskResultRecord;
    } = {},
  ) {
    this.id = id;
    this.#store = options.store;
    this.#revoke = options.revoke;
    this.#record = options.record;
  }

  /** The state the last read saw; PENDING until then, and for ids the store does not know. */
  get state(): TaskState {
    return this.#record?.status ?? 'PENDING';
  }

  get result(): R | undefined {
    const text = this.#record?.result;
    return text === undefined ? undefined : (JSON.parse(text) as R);
  }

  /**
   * Celery's `AsyncResult.info`: a custom state's meta (`ctx.updateState`), the return value for
   * SUCCESS, the error for FAILURE and REVOKED (as `get()` would throw it), else undefined.
   */
  get info(): unknown {
    const record = this.#record;
    if (record?.status === 'FAILURE' || record?.status === 'REVOKED')
      return new TaskFailedError(this.id, record.status, record.errorType, record.traceback);
    return this.result;
  }

  get traceback(): string | undefined {
    return this.#record?.traceback;
  }

  /** The whole row, as the last read saw it. */
  get record(): TaskResultRecord | undefined {
    return this.#record;
  }

  async refresh(): Promise<this> {
    if (this.#store && !(this.#record && READY_STATES.has(this.#record.status))) {
      this.#record = (await this.#store.get(this.id)) ?? this.#record;
    }
    return this;
  }

  async status(): Promise<TaskState> {
    return (await this.refresh()).state;
  }

  async ready(): Promise<boolean> {
    return READY_STATES.has(await this.status());
  }

  async successful(): Promise<boolean> {
    return (await this.status()) === 'SUCCESS';
  }

  async failed(): Promise<boolean> {
    return (await this.status()) === 'FAILURE';
  }

  /** Waits for a ready state and returns the result, or throws the task's failure. */
  async get(options: GetOptions = {}): Promise<R> {
    const interval = (options.interval ?? 0.5) * 1000;
    const started = Date.now();
    while (!(await this.ready())) {
      if (options.timeout !== undefined && Date.now() - started >= options.timeout * 1000) {
        throw new ResultTimeoutError(this.id, options.timeout, this.state);
      }
      const left = options.timeout === undefined ? interval : options.timeout * 1000 - (Date.now() - started);
      await new Promise((resolve) => setTimeout(resolve, Math.max(0, Math.min(interval, left))));
    }
    if (this.state !== 'SUCCESS' && (options.propagate ?? true)) {
      throw new TaskFailedError(this.id, this.state, this.#record?.errorType, this.#record?.traceback);
    }
    return this.result as R;
  }

  /** Revokes the task: if it has not started, it never will (Celery's `revoke()`). */
  async revoke(): Promise<void> {
    if (!this.#revoke)
      throw new TaskFailedError(this.id, this.state, 'NotRevocable', 'eager results cannot be revoked');
    await this.#revoke(this.id);
    this.#record = undefined;
    await this.refresh();
  }
}
