import {
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleCommandOutput,
  ListScheduleGroupsCommand,
  ListSchedulesCommand,
  type ScheduleSummary,
} from '@aws-sdk/client-scheduler';
import { isAwsError } from '../../shared/aws/errors.ts';
import { createLogger, type Logger } from '../../shared/log.ts';
import { type ClockSchedule, nextDue, readSchedule } from './scheduler-clock-timing.ts';
import type { ClockFire, SchedulerClockOptions, SchedulerClockStats } from './scheduler-clock-types.ts';
import {
  DEFAULT_RETRY,
  type DeliveryResult,
  executionId,
  type Run,
  ScheduleDelivery,
} from './scheduler-delivery.ts';

interface Watched extends ClockSchedule {
  key: string;
  name: string;
  group: string;
  modifiedAt: number;
  /** Runs due before this were never the clock's to fire: before it started, or before this definition. */
  notBefore: number;
  next?: number;
}

export type { ClockFire, SchedulerClockOptions, SchedulerClockStats } from './scheduler-clock-types.ts';

const GET_CONCURRENCY = 8;
/** Runs one schedule may catch up at once after a stalled event loop, before the rest are dropped. */
const MAX_CATCH_UP = 100;
/** Longest single timer; refreshes re-arm it anyway. */
const MAX_TIMER_MS = 60_000;

/**
 * EventBridge Scheduler's firing, for an emulator that only stores schedules: reads every schedule
 * (ListScheduleGroups, ListSchedules, GetSchedule when LastModificationDate moved) every couple of
 * seconds or on `refresh()`, and fires each run at its due time on a timer into its SQS target.
 * Like AWS it never back-fills: runs due before the clock started or before the schedule's last
 * change are not fired. Each run fires once (the last fired time is kept per schedule, across
 * updates). A FLEXIBLE time window is run as OFF: every run goes at its exact due time.
 */
export class SchedulerClock {
  readonly #o: SchedulerClockOptions & { refreshIntervalMs: number };
  readonly #log: Logger;
  readonly #watched = new Map<string, Watched>();
  readonly #lastFired = new Map<string, number>();
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stats: SchedulerClockStats = {
    refreshes: 0,
    refreshErrors: 0,
    schedules: 0,
    invalid: 0,
    fired: 0,
    delivered: 0,
    deadLettered: 0,
    failed: 0,
    stopped: 0,
    deleted: 0,
    maxDelayMs: 0,
    totalDelayMs: 0,
    inFlight: 0,
  };
  #abort = new AbortController();
  #delivery: ScheduleDelivery;
  #running = false;
  #startedAt = 0;
  #fireTimer: NodeJS.Timeout | undefined;
  #refreshTimer: NodeJS.Timeout | undefined;
  #refreshing: Promise<void> = Promise.resolve();

  constructor(options: SchedulerClockOptions) {
    this.#o = { ...options, refreshIntervalMs: options.refreshIntervalMs ?? 2000 };
    this.#log = options.logger ?? createLogger({ component: 'scheduler-clock' });
    this.#delivery = this.#newDelivery();
  }

  get stats(): Readonly<SchedulerClockStats> {
    return { ...this.#stats, inFlight: this.#inFlight.size };
  }

  get running(): boolean {
    return this.#running;
  }

  /** The schedules being watched and the next run of each (undefined: none, or it cannot run). */
  upcoming(): { name: string; group: string; next?: Date; problem?: string }[] {
    return [...this.#watched.values()].map((w) => ({
      name: w.name,
      group: w.group,
      ...(w.next !== undefined ? { next: new Date(w.next) } : {}),
      ...(w.problem ? { problem: w.problem } : {}),
    }));
  }

  start(): this {
    if (this.#running) return this;
    this.#running = true;
    this.#startedAt = Date.now();
    this.#abort = new AbortController();
    this.#delivery = this.#newDelivery();
    void this.#refreshLoop();
    return this;
  }

  /** Reads the schedules now; resolves when a read that began after this call is done. */
  refresh(): Promise<void> {
    const next = this.#refreshing.then(() => this.#refresh());
    this.#refreshing = next.catch(() => undefined);
    return next;
  }

  /** Stops firing; deliveries under way finish, retries waiting for their turn are abandoned. */
  async stop(): Promise<SchedulerClockStats> {
    this.#running = false;
    this.#abort.abort();
    clearTimeout(this.#fireTimer);
    clearTimeout(this.#refreshTimer);
    await this.#refreshing;
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
    return this.stats;
  }

  #newDelivery(): ScheduleDelivery {
    return new ScheduleDelivery({
      sqs: this.#o.sqs,
      resolveQueueUrl: this.#o.resolveQueueUrl,
      ...(this.#o.retryBaseDelayMs !== undefined ? { retryBaseDelayMs: this.#o.retryBaseDelayMs } : {}),
      ...(this.#o.retryMaxDelayMs !== undefined ? { retryMaxDelayMs: this.#o.retryMaxDelayMs } : {}),
      signal: this.#abort.signal,
    });
  }

  async #refreshLoop(): Promise<void> {
    if (!this.#running) return;
    await this.refresh().catch(() => undefined);
    if (this.#running)
      this.#refreshTimer = setTimeout(() => void this.#refreshLoop(), this.#o.refreshIntervalMs);
  }

  async #refresh(): Promise<void> {
    if (!this.#running) return;
    const request = () => ({
      abortSignal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(30_000)]),
    });
    try {
      const groups = this.#o.groups ?? (await this.#groups(request));
      const summaries: ScheduleSummary[] = [];
      for (const group of groups) {
        let token: string | undefined;
        do {
          const page = await this.#o.scheduler.send(
            new ListSchedulesCommand({ GroupName: group, ...(token ? { NextToken: token } : {}) }),
            request(),
          );
          summaries.push(...(page.Schedules ?? []));
          token = page.NextToken;
        } while (token);
      }
      const seen = new Set<string>();
      const changed = summaries.filter((s) => {
        const key = `${s.GroupName}/${s.Name}`;
        seen.add(key);
        const watched = this.#watched.get(key);
        // A listing without LastModificationDate is read every time: never taken as unchanged.
        return (
          !watched ||
          s.LastModificationDate === undefined ||
          watched.modifiedAt !== s.LastModificationDate.getTime()
        );
      });
      for (let i = 0; i < changed.length; i += GET_CONCURRENCY) {
        await Promise.all(changed.slice(i, i + GET_CONCURRENCY).map((s) => this.#load(s, request)));
      }
      for (const key of this.#watched.keys()) if (!seen.has(key)) this.#watched.delete(key);
      this.#stats.refreshes++;
      this.#stats.schedules = this.#watched.size;
      this.#stats.invalid = [...this.#watched.values()].filter((w) => w.problem).length;
    } catch (error) {
      if (!this.#running) return;
      this.#stats.refreshErrors++;
      this.#log.error('could not read the schedules', { error: (error as Error).message });
      throw error;
    } finally {
      this.#arm();
    }
  }

  async #groups(request: () => { abortSignal: AbortSignal }): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const page = await this.#o.scheduler.send(
        new ListScheduleGroupsCommand(token ? { NextToken: token } : {}),
        request(),
      );
      names.push(...(page.ScheduleGroups ?? []).map((g) => g.Name as string));
      token = page.NextToken;
    } while (token);
    return names;
  }

  async #load(summary: ScheduleSummary, request: () => { abortSignal: AbortSignal }): Promise<void> {
    const key = `${summary.GroupName}/${summary.Name}`;
    let detail: GetScheduleCommandOutput;
    try {
      detail = await this.#o.scheduler.send(
        new GetScheduleCommand({ Name: summary.Name, GroupName: summary.GroupName }),
        request(),
      );
    } catch (error) {
      // Deleted between the listing and this read.
      if (isAwsError(error, 'ResourceNotFoundException')) return;
      throw error;
    }
    const modifiedAt = (detail.LastModificationDate ?? detail.CreationDate ?? new Date()).getTime();
    const w: Watched = {
      ...readSchedule(detail, modifiedAt),
      key,
      name: detail.Name as string,
      group: detail.GroupName as string,
      modifiedAt: summary.LastModificationDate?.getTime() ?? modifiedAt,
      notBefore: Math.max(this.#startedAt, modifiedAt),
    };
    if (w.problem) {
      this.#log.error('schedule cannot run locally', {
        schedule: w.name,
        group: w.group,
        problem: w.problem,
      });
    } else if (detail.FlexibleTimeWindow?.Mode === 'FLEXIBLE') {
      this.#log.info('flexible time window run as OFF: each run goes at its due time', {
        schedule: w.name,
        group: w.group,
      });
    }
    this.#watched.set(key, w);
    this.#plan(w);
  }

  /** The next run to fire: after the last one fired, and not before the clock or this definition. */
  #plan(w: Watched): void {
    w.next = undefined;
    const after = Math.max(w.notBefore - 1, this.#lastFired.get(w.key) ?? Number.NEGATIVE_INFINITY);
    try {
      w.next = nextDue(w, after);
    } catch (error) {
      // An unknown time zone surfaces here, from Intl.
      w.problem = (error as Error).message;
      this.#log.error('schedule cannot run locally', {
        schedule: w.name,
        group: w.group,
        problem: w.problem,
      });
    }
  }

  #arm(): void {
    clearTimeout(this.#fireTimer);
    if (!this.#running) return;
    let soonest = Number.POSITIVE_INFINITY;
    for (const w of this.#watched.values()) if (w.next !== undefined && w.next < soonest) soonest = w.next;
    if (soonest === Number.POSITIVE_INFINITY) return;
    const delay = Math.min(MAX_TIMER_MS, Math.max(0, soonest - Date.now()));
    this.#fireTimer = setTimeout(() => this.#tick(), delay);
  }

  #tick(): void {
    if (!this.#running) return;
    const now = Date.now();
    for (const w of this.#watched.values()) {
      let caughtUp = 0;
      while (w.next !== undefined && w.next <= now) {
        if (++caughtUp > MAX_CATCH_UP) {
          this.#log.warn('schedule fell behind; older runs dropped', { schedule: w.name, group: w.group });
          this.#lastFired.set(w.key, now);
          this.#plan(w);
          break;
        }
        const due = w.next;
        this.#lastFired.set(w.key, due);
        this.#plan(w);
        this.#fire(w, due, w.next === undefined);
      }
    }
    this.#arm();
  }

  #fire(w: Watched, due: number, last: boolean): void {
    const { detail } = w;
    const target = detail.Target;
    const retry = target?.RetryPolicy;
    const run: Run = {
      scheduleArn: detail.Arn as string,
      executionId: executionId(),
      scheduledTime: new Date(due),
      target: {
        arn: target?.Arn as string,
        input: target?.Input,
        messageGroupId: target?.SqsParameters?.MessageGroupId,
        retry: {
          maximumRetryAttempts: retry?.MaximumRetryAttempts ?? DEFAULT_RETRY.MaximumRetryAttempts,
          maximumEventAgeSeconds: retry?.MaximumEventAgeInSeconds ?? DEFAULT_RETRY.MaximumEventAgeInSeconds,
        },
        deadLetterArn: target?.DeadLetterConfig?.Arn,
      },
    };
    this.#stats.fired++;
    const deleteAfter = last && detail.ActionAfterCompletion === 'DELETE';
    const job = this.#delivery
      .deliver(run)
      .then((result) => this.#settled(w, run, result))
      .then(() => (deleteAfter ? this.#delete(w) : undefined))
      .catch((error: Error) =>
        this.#log.error('scheduler clock failed', { schedule: w.name, error: error.message }),
      )
      .finally(() => this.#inFlight.delete(job));
    this.#inFlight.add(job);
  }

  #settled(w: Watched, run: Run, result: DeliveryResult): void {
    const due = run.scheduledTime.getTime();
    const delayMs = result.firstAttemptAt - due;
    const counter = {
      delivered: 'delivered',
      'dead-lettered': 'deadLettered',
      failed: 'failed',
      stopped: 'stopped',
    } as const;
    this.#stats[counter[result.outcome]]++;
    this.#stats.maxDelayMs = Math.max(this.#stats.maxDelayMs, delayMs);
    this.#stats.totalDelayMs += delayMs;
    const fire: ClockFire = {
      name: w.name,
      group: w.group,
      scheduleArn: run.scheduleArn,
      executionId: run.executionId,
      scheduledTime: run.scheduledTime,
      firedAt: result.firstAttemptAt,
      delayMs,
      settledAt: Date.now(),
      outcome: result.outcome,
      attempts: result.attempts,
      ...(result.messageId ? { messageId: result.messageId } : {}),
      ...(result.error ? { error: result.error } : {}),
    };
    const fields = {
      schedule: w.name,
      group: w.group,
      executionId: run.executionId,
      scheduledTime: run.scheduledTime.toISOString(),
      delayMs,
      outcome: result.outcome,
      attempts: result.attempts,
      ...(result.messageId ? { messageId: result.messageId } : {}),
      ...(result.error ? { error: result.error } : {}),
    };
    if (result.outcome === 'delivered') this.#log.info('schedule fired', fields);
    else this.#log.error('schedule run not delivered', fields);
    this.#o.onFire?.(fire);
  }

  async #delete(w: Watched): Promise<void> {
    try {
      await this.#o.scheduler.send(new DeleteScheduleCommand({ Name: w.name, GroupName: w.group }));
      this.#stats.deleted++;
      if (this.#watched.get(w.key) === w) this.#watched.delete(w.key);
    } catch (error) {
      if (!isAwsError(error, 'ResourceNotFoundException')) {
        this.#log.error('could not delete a completed schedule', {
          schedule: w.name,
          error: (error as Error).message,
        });
      }
    }
  }
}
