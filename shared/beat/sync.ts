import type { AttributeValue } from '@aws-sdk/client-dynamodb';
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
  type SchedulerClient,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { unmarshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBBatchResponse, DynamoDBRecord } from 'aws-lambda';
import { isAwsError } from '../aws/errors.ts';
import { ValidationError } from '../errors.ts';
import { createLogger, type Logger } from '../log.ts';
import type { PeriodicTask } from './model.ts';
import { scheduleName } from './naming.ts';
import { type ScheduleRequest, scheduleRequest } from './schedule-input.ts';
import { definitionFromItem, type PeriodicTaskStore } from './store.ts';
import { type ActualSchedule, diffSchedules, planSync } from './sync-plan.ts';
import type { BeatTarget } from './target.ts';
import { translate } from './translate.ts';

export interface BeatSyncOptions {
  scheduler: SchedulerClient;
  /** For reconcile, which reads the whole table. */
  store: PeriodicTaskStore;
  target: BeatTarget;
  clock?: () => Date;
  logger?: Logger;
  /** Scheduler calls in flight at once (its default quotas are tens per second). @defaultValue 8 */
  concurrency?: number;
}

export interface ReconcileReport {
  /** Periodic tasks read from the table. */
  checked: number;
  created: string[];
  updated: { name: string; differences: string[] }[];
  deleted: string[];
  /** Rows that no longer validate (edited by hand): their schedules are left as they are. */
  invalid: { name: string; error: string }[];
  failed: { name: string; error: string }[];
}

type Applied = 'created' | 'updated' | 'deleted' | 'unchanged';

const notFound = (error: unknown) => isAwsError(error, 'ResourceNotFoundException');
const conflict = (error: unknown) => isAwsError(error, 'ConflictException');

function image(record: DynamoDBRecord, which: 'NewImage' | 'OldImage'): Record<string, unknown> | undefined {
  const raw = record.dynamodb?.[which];
  return raw ? unmarshall(raw as Record<string, AttributeValue>) : undefined;
}

function keyOf(record: DynamoDBRecord): string {
  const keys = record.dynamodb?.Keys;
  return keys ? JSON.stringify(unmarshall(keys as Record<string, AttributeValue>)) : '';
}

/** Runs `work` over `items`, at most `limit` at a time. */
async function eachLimited<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>) {
  let next = 0;
  const lane = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
}

/**
 * Keeps the periodic schedule group in step with the periodic-tasks table: from its stream, one
 * change at a time, and by reconcile, the whole table against the whole group.
 */
export class BeatSync {
  readonly #scheduler: SchedulerClient;
  readonly #store: PeriodicTaskStore;
  readonly #target: BeatTarget;
  readonly #clock: () => Date;
  readonly #log: Logger;
  readonly #concurrency: number;

  constructor(options: BeatSyncOptions) {
    this.#scheduler = options.scheduler;
    this.#store = options.store;
    this.#target = options.target;
    this.#clock = options.clock ?? (() => new Date());
    this.#log = options.logger ?? createLogger({ component: 'beat-sync' });
    this.#concurrency = options.concurrency ?? 8;
  }

  /**
   * One batch of stream records. Records of one periodic task are handled in order, tasks in
   * parallel. A task is written only if some record of it changed a schedule-relevant field, and
   * then in its latest state, whole: a batch retried from an earlier record (after a partial
   * failure) may repeat changes already applied, so nothing is inferred from a record's old image
   * beyond "something relevant changed". A failed task reports its first record; Lambda retries
   * from the lowest one reported.
   */
  async handleStream(records: readonly DynamoDBRecord[]): Promise<DynamoDBBatchResponse> {
    const byTask = new Map<string, DynamoDBRecord[]>();
    for (const record of records) {
      const key = keyOf(record);
      byTask.set(key, [...(byTask.get(key) ?? []), record]);
    }
    const failed: string[] = [];
    await eachLimited([...byTask.values()], this.#concurrency, async (group) => {
      try {
        await this.#syncTask(group);
      } catch (error) {
        const first = group[0]?.dynamodb?.SequenceNumber;
        this.#log.error('could not sync a periodic task; its records will be delivered again', {
          keys: keyOf(group[0] as DynamoDBRecord),
          error: (error as Error).message,
        });
        if (first) failed.push(first);
      }
    });
    return { batchItemFailures: failed.map((itemIdentifier) => ({ itemIdentifier })) };
  }

  async #syncTask(records: readonly DynamoDBRecord[]): Promise<void> {
    const now = this.#clock();
    const last = records[records.length - 1] as DynamoDBRecord;
    const latest = image(last, 'NewImage');
    let relevant = false;
    let name = '';
    for (const record of records) {
      const parse = (raw: Record<string, unknown> | undefined) =>
        raw === undefined ? undefined : this.#parse(raw);
      const oldImage = parse(image(record, 'OldImage'));
      const newImage = parse(image(record, 'NewImage'));
      if (oldImage === 'invalid' || newImage === 'invalid') {
        relevant = true;
      } else {
        try {
          if (planSync(oldImage, newImage, { ...this.#target, now }).kind !== 'none') relevant = true;
        } catch (error) {
          if (!(error instanceof ValidationError)) throw error;
          relevant = true; // reported below, when the latest state is planned
        }
      }
      name ||= String((image(record, 'NewImage') ?? image(record, 'OldImage'))?.name ?? '');
    }
    if (!relevant) return;
    if (!latest) {
      await this.delete(scheduleName(name));
      return;
    }
    const definition = this.#parse(latest);
    if (definition === 'invalid') return;
    let request: ScheduleRequest;
    try {
      request = scheduleRequest(definition, translate(definition, { now }), { ...this.#target, now });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      // E.g. its queue is gone from the stack: no retry can fix it; reconcile keeps reporting it.
      this.#log.error('periodic task cannot be scheduled; its schedule was left unchanged', {
        periodicTask: definition.name,
        error: error.message,
      });
      return;
    }
    await this.put(request, { exists: last.eventName !== 'INSERT' });
  }

  /** A stored image, or 'invalid' (logged, with the fields named) when it no longer validates. */
  #parse(raw: Record<string, unknown>): PeriodicTask | 'invalid' {
    try {
      return definitionFromItem(raw);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      // Written around the store (by hand in the console): nothing a retry could fix. The schedule
      // keeps its last good state; reconcile reports the row until it is fixed.
      this.#log.error('periodic task is invalid; its schedule was left unchanged', {
        periodicTask: String(raw.name),
        error: error.message,
      });
      return 'invalid';
    }
  }

  /** Creates or updates a schedule to be exactly `request`, whichever it needs. */
  async put(request: ScheduleRequest, hint: { exists: boolean }): Promise<Applied> {
    const create = () => this.#scheduler.send(new CreateScheduleCommand(request));
    const update = () => this.#scheduler.send(new UpdateScheduleCommand(request));
    if (hint.exists) {
      try {
        await update();
        return 'updated';
      } catch (error) {
        if (!notFound(error)) throw error;
        await create();
        return 'created';
      }
    }
    try {
      await create();
      return 'created';
    } catch (error) {
      if (!conflict(error)) throw error;
      await update();
      return 'updated';
    }
  }

  async delete(name: string): Promise<Applied> {
    try {
      await this.#scheduler.send(
        new DeleteScheduleCommand({ Name: name, GroupName: this.#target.groupName }),
      );
      return 'deleted';
    } catch (error) {
      if (notFound(error)) return 'unchanged';
      throw error;
    }
  }

  /**
   * Compares every periodic task with every schedule in the group and repairs the difference:
   * missing schedules created, extra ones deleted, hand-edited ones put back. For a first deploy,
   * after manual edits in the console, or after stream records were lost.
   */
  async reconcile(): Promise<ReconcileReport> {
    const now = this.#clock();
    const target = { ...this.#target, now };
    const report: ReconcileReport = {
      checked: 0,
      created: [],
      updated: [],
      deleted: [],
      invalid: [],
      failed: [],
    };
    const desired = new Map<string, ScheduleRequest>();
    const keep = new Set<string>();
    for await (const stored of this.#store.all()) {
      report.checked++;
      if ('error' in stored) {
        report.invalid.push({ name: stored.name, error: stored.error.message });
        keep.add(scheduleName(stored.name));
        continue;
      }
      try {
        const request = scheduleRequest(stored.definition, translate(stored.definition, { now }), target);
        desired.set(request.Name, request);
      } catch (error) {
        if (!(error instanceof ValidationError)) throw error;
        report.invalid.push({ name: stored.name, error: error.message });
        keep.add(scheduleName(stored.name));
      }
    }
    const actual = await this.#readGroup();
    const diff = diffSchedules(desired, actual, { now });
    const attempt = async (name: string, work: () => Promise<unknown>) => {
      try {
        await work();
        return true;
      } catch (error) {
        report.failed.push({ name, error: (error as Error).message });
        return false;
      }
    };
    await eachLimited(diff.create, this.#concurrency, async (request) => {
      if (await attempt(request.Name, () => this.put(request, { exists: false })))
        report.created.push(request.Name);
    });
    await eachLimited(diff.update, this.#concurrency, async ({ request, differences }) => {
      if (await attempt(request.Name, () => this.put(request, { exists: true })))
        report.updated.push({ name: request.Name, differences });
    });
    const extra = diff.delete.filter((name) => !keep.has(name));
    await eachLimited(extra, this.#concurrency, async (name) => {
      if (await attempt(name, () => this.delete(name))) report.deleted.push(name);
    });
    this.#log.info('reconciled periodic schedules', {
      checked: report.checked,
      created: report.created.length,
      updated: report.updated.length,
      deleted: report.deleted.length,
      invalid: report.invalid.length,
      failed: report.failed.length,
    });
    return report;
  }

  /** Every schedule in the group, as GetSchedule returns it (ListSchedules omits the target). */
  async #readGroup(): Promise<Map<string, ActualSchedule>> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#scheduler.send(
        new ListSchedulesCommand({ GroupName: this.#target.groupName, NextToken: token, MaxResults: 100 }),
      );
      for (const schedule of page.Schedules ?? []) if (schedule.Name) names.push(schedule.Name);
      token = page.NextToken;
    } while (token);
    const actual = new Map<string, ActualSchedule>();
    await eachLimited(names, this.#concurrency, async (name) => {
      try {
        actual.set(
          name,
          await this.#scheduler.send(
            new GetScheduleCommand({ Name: name, GroupName: this.#target.groupName }),
          ),
        );
      } catch (error) {
        if (!notFound(error)) throw error; // deleted since it was listed
      }
    });
    return actual;
  }
}
