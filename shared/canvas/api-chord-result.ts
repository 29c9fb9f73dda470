import { getResultStore, revoke } from '../app-producer.ts';
import { AsyncResult, type GetOptions } from '../producer/async-result.ts';
import type { TaskResultRecord } from '../results/record.ts';
import type { TaskState } from '../task/states.ts';
import type { GroupResult } from './api-group-result.ts';

/**
 * A chord's result (Celery's): the callback's outcome, read as an `AsyncResult` reads it, with the
 * header's `GroupResult` as its `parent`. It wraps the callback's `AsyncResult` (`callback`), whose
 * own `parent` is a task's result and so cannot hold a group.
 */
export class ChordResult<R = unknown> {
  readonly id: string;
  readonly parent: GroupResult;
  /** The callback's own result handle. */
  readonly callback: AsyncResult<R>;

  /** `record`: the callback's row when it is known already (an eager chord's). */
  constructor(id: string, parent: GroupResult, record?: TaskResultRecord) {
    this.id = id;
    this.parent = parent;
    this.callback = new AsyncResult<R>(id, record ? { record, revoke } : { store: getResultStore(), revoke });
  }

  get state(): TaskState {
    return this.callback.state;
  }

  get result(): R | undefined {
    return this.callback.result;
  }

  get traceback(): string | undefined {
    return this.callback.traceback;
  }

  get record(): TaskResultRecord | undefined {
    return this.callback.record;
  }

  async refresh(): Promise<this> {
    await this.callback.refresh();
    return this;
  }

  status(): Promise<TaskState> {
    return this.callback.status();
  }

  ready(): Promise<boolean> {
    return this.callback.ready();
  }

  successful(): Promise<boolean> {
    return this.callback.successful();
  }

  failed(): Promise<boolean> {
    return this.callback.failed();
  }

  /** Waits for the callback and returns its result, or throws its failure (a `ChordError` one included). */
  get(options: GetOptions = {}): Promise<R> {
    return this.callback.get(options);
  }

  /** Revokes the callback (the members run on; `parent.revoke()` stops those not started). */
  revoke(): Promise<void> {
    return this.callback.revoke();
  }
}
