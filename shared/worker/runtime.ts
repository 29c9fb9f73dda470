import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import type { CelerityConfig } from '../config/config.ts';
import type { Envelope } from '../envelope/schema.ts';
import { CelerityError } from '../errors.ts';
import { createLogger, type Logger } from '../log.ts';
import { EnqueueError } from '../producer/errors.ts';
import type { Producer } from '../producer/producer.ts';
import type { Completion, ResultStore } from '../results/store.ts';
import type { RegisteredTask, TaskRegistry } from '../task/registry.ts';
import { TaskState } from '../task/states.ts';
import { decodeRecord } from './decode.ts';
import { describeError, executeTask, type RunOutcome } from './execute.ts';
import { admitPeriodic, type PeriodicBookkeeper } from './periodic.ts';
import { hastenPoison } from './poison.ts';
import { deferralSeconds, type RateLimiter } from './rate-limit.ts';
import { claimRow, outcomeRow, type Resend, type Work } from './work.ts';

export interface Invocation {
  /** Lambda's request id (or the local poller's), recorded as the result's `worker`. */
  requestId: string;
  /** Milliseconds before the invocation is stopped (Lambda's `getRemainingTimeInMillis`). */
  remainingTimeMs(): number;
}

export interface WorkerRuntimeOptions {
  registry: TaskRegistry;
  config: CelerityConfig;
  store: ResultStore;
  producer: Producer;
  /** Lets poison messages come back sooner (see `poisonRetryDelay`); without it they wait out the visibility timeout. */
  sqs?: SQSClient;
  /** Needed only when some task has a `rateLimit`. */
  rateLimiter?: RateLimiter;
  /** Run statistics, one-off and solar follow-ups of periodic runs. */
  periodic?: PeriodicBookkeeper;
  logger?: Logger;
}

/** An eta this close is run now: SQS's delay is whole seconds and clocks differ a little. */
const ETA_TOLERANCE_MS = 1000;

/**
 * Runs a batch of task messages the way Lambda delivers them: every record decoded and validated,
 * the batch claimed in one transaction, rate limits taken per task, the bodies run concurrently
 * under their time limits, retries and deferrals re-sent, outcomes recorded in one transaction;
 * only records that must come back are reported as failures.
 */
export class WorkerRuntime {
  readonly #registry: TaskRegistry;
  readonly #config: CelerityConfig;
  readonly #store: ResultStore;
  readonly #producer: Producer;
  readonly #rateLimiter: RateLimiter | undefined;
  readonly #sqs: SQSClient | undefined;
  readonly #periodic: PeriodicBookkeeper | undefined;
  readonly #log: Logger;

  constructor(options: WorkerRuntimeOptions) {
    this.#registry = options.registry;
    this.#config = options.config;
    this.#store = options.store;
    this.#producer = options.producer;
    this.#rateLimiter = options.rateLimiter;
    this.#sqs = options.sqs;
    this.#periodic = options.periodic;
    this.#log = options.logger ?? createLogger({ component: 'worker' });
  }

  async processBatch(records: readonly SQSRecord[], invocation: Invocation): Promise<SQSBatchResponse> {
    const now = Date.now();
    const remaining = invocation.remainingTimeMs();
    const deadline = now + remaining - Math.min(10_000, remaining * 0.1);
    const failures = new Set<string>();
    const completions: { messageId: string; completion: Completion }[] = [];
    const resends: Resend[] = [];
    let work: Work[] = [];
    const seen = new Set<string>();
    const poison: SQSRecord[] = [];
    const periodicDeliveries: { messageId: string; envelope: Envelope }[] = [];

    for (const record of records) {
      const decoded = decodeRecord(record, this.#registry, now, this.#config.resultExpires, this.#log);
      if (!('envelope' in decoded)) {
        failures.add(record.messageId);
        poison.push(record);
        if (decoded.poison) completions.push({ messageId: record.messageId, completion: decoded.poison });
        continue;
      }
      const admission = admitPeriodic(decoded.envelope, now);
      if (admission.kind === 'skip') {
        // The schedule fires on a superset of Celery's days (EventBridge cannot restrict both day
        // fields): on the other days the tick is dropped, with no record, as Celery would not run.
        this.#log.debug('periodic run skipped by its day guard', { taskId: decoded.envelope.id });
        continue;
      }
      const { envelope } = admission;
      const { task } = decoded;
      for (const run of admission.later) resends.push({ messageId: record.messageId, ...run });
      if (envelope.beat) periodicDeliveries.push({ messageId: record.messageId, envelope });
      if (seen.has(envelope.id)) {
        failures.add(record.messageId);
        continue;
      }
      seen.add(envelope.id);
      const etaMs = envelope.eta ? Date.parse(envelope.eta) - now : 0;
      if (etaMs >= ETA_TOLERANCE_MS) {
        resends.push({ messageId: record.messageId, envelope, delaySeconds: Math.ceil(etaMs / 1000) });
        continue;
      }
      work.push({
        record,
        envelope,
        task,
        row: claimRow(envelope, task, {
          worker: invocation.requestId,
          now,
          invocationEnd: now + remaining,
          expiresAt: Math.floor(now / 1000) + this.#expiresFor(task),
        }),
      });
    }

    const followUps = this.#periodic?.afterDelivery(periodicDeliveries.map((d) => d.envelope));
    const withdrawn = await this.#periodic?.withdrawn(work.map((w) => w.envelope));
    if (withdrawn?.size) {
      this.#log.info('queued periodic runs dropped: their periodic task is disabled', {
        runs: withdrawn.size,
      });
      work = work.filter((w) => !withdrawn.has(w.envelope));
    }
    const claimed = await this.#claim(work, now, failures, completions);
    const runnable = await this.#applyRateLimits(claimed, now, resends);
    const outcomes = await Promise.all(runnable.map((w) => this.#run(w, deadline)));
    runnable.forEach((w, index) => {
      this.#settle(w, outcomes[index] as RunOutcome | 'deferred', resends, completions);
    });
    const started = runnable.filter((_w, index) => outcomes[index] !== 'deferred').map((w) => w.envelope);

    await Promise.all([this.#resend(resends, failures, completions), this.#periodic?.recordRuns(started)]);
    await this.#complete(completions, failures);
    const failedFollowUps = await followUps;
    for (const { messageId, envelope } of periodicDeliveries) {
      if (failedFollowUps?.has(envelope)) failures.add(messageId);
    }
    if (poison.length > 0 && this.#sqs) await hastenPoison(this.#sqs, this.#config, poison, this.#log);
    return { batchItemFailures: [...failures].map((itemIdentifier) => ({ itemIdentifier })) };
  }

  async #claim(
    work: Work[],
    now: number,
    failures: Set<string>,
    completions: { messageId: string; completion: Completion }[],
  ): Promise<Work[]> {
    if (work.length === 0) return [];
    let outcomes: Awaited<ReturnType<ResultStore['claim']>>;
    try {
      outcomes = await this.#store.claim(
        work.map((w) => w.row),
        now,
      );
    } catch (error) {
      this.#log.error('could not claim batch; it will be delivered again', {
        error: (error as Error).message,
      });
      for (const w of work) failures.add(w.record.messageId);
      return [];
    }
    const claimed: Work[] = [];
    work.forEach((w, index) => {
      const outcome = outcomes[index];
      if (outcome?.claimed) {
        if (w.envelope.expires && Date.parse(w.envelope.expires) <= now) {
          this.#log.info('task expired', {
            taskId: w.envelope.id,
            task: w.task.name,
            state: TaskState.REVOKED,
          });
          completions.push({
            messageId: w.record.messageId,
            completion: outcomeRow(w, {
              status: TaskState.REVOKED,
              errorType: 'TaskExpired',
              traceback: `TaskExpired: expired at ${w.envelope.expires}`,
              dateDone: new Date(now).toISOString(),
            }),
          });
        } else {
          claimed.push(w);
        }
      } else if (outcome?.why === 'in-flight' || outcome?.why === 'error' || !outcome) {
        failures.add(w.record.messageId);
      } else {
        this.#log.debug('skipped delivery', { taskId: w.envelope.id, task: w.task.name, why: outcome.why });
      }
    });
    return claimed;
  }

  /** Takes tokens for rate-limited tasks; the runs that do not fit are sent again for a later window. */
  async #applyRateLimits(claimed: Work[], now: number, resends: Resend[]): Promise<Work[]> {
    const limited = new Map<string, Work[]>();
    const runnable: Work[] = [];
    for (const w of claimed) {
      if (!w.task.options.rateLimit) runnable.push(w);
      else limited.set(w.task.name, [...(limited.get(w.task.name) ?? []), w]);
    }
    if (limited.size === 0) return runnable;
    if (!this.#rateLimiter) {
      throw new CelerityError(
        `task ${limited.keys().next().value} has a rateLimit but no rate-limit table is configured`,
      );
    }
    const limiter = this.#rateLimiter;
    await Promise.all(
      [...limited.values()].map(async (group) => {
        const limit = group[0]?.task.options.rateLimit;
        if (!limit) return;
        const grant = await limiter.acquire(group[0]?.task.name as string, limit, group.length, now);
        group.forEach((w, position) => {
          if (position < grant.granted) {
            runnable.push({ ...w, windowEnd: grant.windowEnd });
          } else {
            resends.push(this.#deferral(w, deferralSeconds(grant, limit, position - grant.granted, now)));
          }
        });
      }),
    );
    return runnable;
  }

  #deferral(w: Work, delaySeconds: number): Resend {
    this.#log.debug('rate limited; deferred', { taskId: w.envelope.id, task: w.task.name, delaySeconds });
    return {
      messageId: w.record.messageId,
      envelope: w.envelope,
      delaySeconds,
      completion: outcomeRow(w, {
        status: w.envelope.retries > 0 ? TaskState.RETRY : TaskState.PENDING,
        dateStarted: undefined,
        worker: undefined,
      }),
    };
  }

  async #run(w: Work, deadline: number): Promise<RunOutcome | 'deferred'> {
    // A token is good only for its window: a run that would start after it waits for another.
    if (w.windowEnd !== undefined && Date.now() >= w.windowEnd) return 'deferred';
    const { envelope } = w;
    return executeTask(w.task, {
      request: {
        id: envelope.id,
        task: envelope.task,
        retries: envelope.retries,
        eta: envelope.eta,
        expires: envelope.expires,
        origin: envelope.origin,
        parentId: envelope.parentId,
        rootId: envelope.rootId,
        periodicTask: envelope.periodicTask,
        queue: envelope.queue,
        deliveryCount: Number(w.record.attributes?.ApproximateReceiveCount ?? 1),
        isEager: false,
      },
      args: envelope.args,
      kwargs: envelope.kwargs,
      deadline,
    });
  }

  #settle(
    w: Work,
    outcome: RunOutcome | 'deferred',
    resends: Resend[],
    completions: { messageId: string; completion: Completion }[],
  ): void {
    const { envelope, task, record } = w;
    if (outcome === 'deferred') {
      resends.push(this.#deferral(w, 1));
      return;
    }
    const now = Date.now();
    const base = { expiresAt: Math.floor(now / 1000) + this.#expiresFor(task) };
    const fields = { taskId: envelope.id, task: task.name, runtimeMs: Math.round(outcome.runtimeMs) };
    if (outcome.kind === 'success') {
      let result: string | undefined;
      try {
        result = task.options.ignoreResult ? undefined : JSON.stringify(outcome.result ?? null);
      } catch (error) {
        this.#settle(
          w,
          {
            kind: 'failure',
            error: new TypeError(`result is not JSON-serializable: ${(error as Error).message}`),
            runtimeMs: outcome.runtimeMs,
          },
          resends,
          completions,
        );
        return;
      }
      this.#log.info('task succeeded', { ...fields, state: TaskState.SUCCESS });
      completions.push({
        messageId: record.messageId,
        completion: outcomeRow(w, {
          ...base,
          status: TaskState.SUCCESS,
          result,
          dateDone: new Date(now).toISOString(),
        }),
      });
      return;
    }
    const { errorType, traceback } = describeError(outcome.error);
    if (outcome.kind === 'retry') {
      const eta = new Date(now + outcome.countdown * 1000).toISOString();
      this.#log.warn('task will retry', {
        ...fields,
        state: TaskState.RETRY,
        error: errorType,
        countdown: outcome.countdown,
      });
      resends.push({
        messageId: record.messageId,
        envelope: { ...envelope, retries: envelope.retries + 1, eta },
        delaySeconds: outcome.countdown,
        // The row counts the attempt to come, so a late copy of this one is known as stale.
        completion: outcomeRow(w, {
          ...base,
          status: TaskState.RETRY,
          retries: envelope.retries + 1,
          errorType,
          traceback,
          eta,
        }),
      });
      return;
    }
    this.#log.error('task failed', { ...fields, state: TaskState.FAILURE, error: errorType });
    completions.push({
      messageId: record.messageId,
      completion: outcomeRow(w, {
        ...base,
        status: TaskState.FAILURE,
        errorType,
        traceback,
        dateDone: new Date(now).toISOString(),
      }),
    });
  }

  /** A retry or deferral that cannot be sent leaves its message to come back: nothing is lost. */
  async #resend(
    resends: Resend[],
    failures: Set<string>,
    completions: { messageId: string; completion: Completion }[],
  ): Promise<void> {
    if (resends.length === 0) return;
    const unsent = new Set<number>();
    try {
      await this.#producer.sendEnvelopes(
        resends.map(({ envelope, delaySeconds }) => ({ envelope, delaySeconds })),
      );
    } catch (error) {
      if (error instanceof EnqueueError) for (const f of error.failed) unsent.add(f.index);
      else for (let index = 0; index < resends.length; index++) unsent.add(index);
      this.#log.error('could not re-send some tasks; their messages will be delivered again', {
        error: (error as Error).message,
      });
    }
    resends.forEach((resend, index) => {
      if (unsent.has(index)) failures.add(resend.messageId);
      else if (resend.completion)
        completions.push({ messageId: resend.messageId, completion: resend.completion });
    });
  }

  async #complete(
    completions: { messageId: string; completion: Completion }[],
    failures: Set<string>,
  ): Promise<void> {
    if (completions.length === 0) return;
    // DynamoDB refuses a transaction that touches one item twice; a second outcome for the same
    // task in one batch waits for its message to come back.
    const ids = new Set<string>();
    completions = completions.filter(({ messageId, completion }) => {
      if (!ids.has(completion.record.taskId)) return ids.add(completion.record.taskId);
      failures.add(messageId);
      return false;
    });
    try {
      const outcomes = await this.#store.complete(completions.map((c) => c.completion));
      outcomes.forEach((outcome, index) => {
        if (!outcome.ok && outcome.reason === 'error')
          failures.add((completions[index] as { messageId: string }).messageId);
      });
    } catch (error) {
      this.#log.error('could not record results; the messages will be delivered again', {
        error: (error as Error).message,
      });
      for (const c of completions) failures.add(c.messageId);
    }
  }

  #expiresFor(task: RegisteredTask): number {
    return task.options.resultExpires ?? this.#config.resultExpires;
  }
}
