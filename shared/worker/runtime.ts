import type { SQSClient } from '@aws-sdk/client-sqs';
import type { SQSBatchResponse, SQSRecord } from 'aws-lambda';
import { mapLimit } from '../batches.ts';
import type { FollowUps } from '../canvas/follow-ups.ts';
import type { CeleryResultWriter } from '../celery/result-backend.ts';
import type { CelerityConfig } from '../config/config.ts';
import type { Envelope } from '../envelope/schema.ts';
import { createLogger, type Logger } from '../log.ts';
import type { Producer } from '../producer/producer.ts';
import type { ResultStore } from '../results/store.ts';
import type { RegisteredTask, TaskRegistry } from '../task/registry.ts';
import { TaskState } from '../task/states.ts';
import { admitRecord } from './admit.ts';
import { mirrorCeleryOutcomes, stateWriterFor } from './celery-mirror.ts';
import { claimBatch } from './claim.ts';
import { describeError, safeText } from './execute.ts';
import { followUpBatch } from './follow-up.ts';
import { BatchLedger } from './ledger.ts';
import { defaultMetricsSink, type MetricsSink, metricDocuments } from './metrics.ts';
import type { PeriodicBookkeeper } from './periodic.ts';
import { hastenPoison } from './poison.ts';
import type { RateLimiter } from './rate-limit.ts';
import { completeAll, resendAll } from './record-outcomes.ts';
import { ENDING, type Ending, invocationEnding, type Ran, runWork } from './run.ts';
import { deferral, settle } from './settle.ts';
import { applyRateLimits } from './take-rate-limits.ts';
import { claimRow, outcomeRow, type Work } from './work.ts';

export interface Invocation {
  /** Lambda's request id (or the local poller's), recorded as the result's `worker`. */
  requestId: string;
  /** Milliseconds before the invocation is stopped (Lambda's `getRemainingTimeInMillis`). */
  remainingTimeMs(): number;
  /**
   * Aborted as the invocation nears its end (shared/middleware's `invocationDeadline`): the runs
   * not finished by then are given back, nothing written for them. Without it, runs go on to their limits.
   */
  signal?: AbortSignal;
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
  /** Where the per-batch EMF metrics go. @defaultValue stdout in Lambda, nowhere elsewhere */
  metrics?: MetricsSink;
  /** Chains, links and chords: what is sent once a task is ready. Without it, nothing is. */
  followUps?: FollowUps;
  /** Celery-originated tasks' outcomes also in Celery's result-backend layout (`celeryResultsTable`). */
  celeryResults?: CeleryResultWriter;
}

/** What the admission of a batch's records gathers. */
interface Admitted {
  periodicDeliveries: { messageId: string; envelope: Envelope }[];
  /** Task ids admitted so far: a second delivery in one batch comes back later. */
  seen: Set<string>;
  work: Work[];
  /** Refused Celery messages whose FAILURE row a Celery client should read too. */
  celeryPoison: Set<string>;
}

/**
 * Runs a batch of task messages the way Lambda delivers them: every record admitted (decoded,
 * validated, its schedule's instructions read), the batch claimed in one transaction, rate limits
 * taken per task, the bodies run (at most `workerConcurrency` at once) under their time limits,
 * retries and deferrals re-sent, outcomes recorded in one transaction. Each record is its own
 * failure domain: whatever goes wrong for one becomes its FAILURE row or its return to the queue,
 * never its batch-mates'. Only records that must come back are reported as failures.
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
  readonly #metrics: MetricsSink;
  readonly #followUps: FollowUps | undefined;
  readonly #celery: CeleryResultWriter | undefined;
  readonly #queueByArn: Map<string, string>;

  constructor(options: WorkerRuntimeOptions) {
    this.#registry = options.registry;
    this.#config = options.config;
    this.#store = options.store;
    this.#producer = options.producer;
    this.#rateLimiter = options.rateLimiter;
    this.#sqs = options.sqs;
    this.#periodic = options.periodic;
    this.#log = options.logger ?? createLogger({ component: 'worker' });
    this.#metrics = options.metrics ?? defaultMetricsSink();
    this.#followUps = options.followUps;
    this.#celery = options.celeryResults;
    this.#queueByArn = new Map(Object.entries(options.config.queues).map(([name, q]) => [q.arn, name]));
  }

  async processBatch(records: readonly SQSRecord[], invocation: Invocation): Promise<SQSBatchResponse> {
    const ledger = new BatchLedger();
    const ending = invocationEnding(invocation.signal);
    try {
      await this.#process(records, invocation, ledger, ending);
    } catch (error) {
      // Every step guards its records; reaching here is a bug. The records not yet accounted for come back.
      this.#log.error('worker batch failed unexpectedly; its unsettled records will be delivered again', {
        error: describeError(error).traceback,
      });
      const settled = new Set(ledger.completions.map((c) => c.messageId));
      for (const record of records)
        if (!settled.has(record.messageId))
          ledger.giveBack(record.messageId, 'the batch failed unexpectedly');
    } finally {
      ending.release();
    }
    // After a failure too: what was counted before it is not lost with it.
    this.#emitMetrics(ledger);
    if (ledger.returned.size > 0) {
      this.#log.warn('batch returns records to their queue', {
        count: ledger.returned.size,
        of: records.length,
        records: [...ledger.returned].map(([messageId, reason]) => ({ messageId, reason })),
      });
    }
    return { batchItemFailures: [...ledger.returned.keys()].map((itemIdentifier) => ({ itemIdentifier })) };
  }

  async #process(
    records: readonly SQSRecord[],
    invocation: Invocation,
    ledger: BatchLedger,
    ending: Ending,
  ): Promise<void> {
    const now = Date.now();
    const remaining = invocation.remainingTimeMs();
    const admitAt = { now, remaining, requestId: invocation.requestId };

    const batch: Admitted = { periodicDeliveries: [], seen: new Set(), work: [], celeryPoison: new Set() };
    for (const record of records) {
      try {
        this.#admit(record, admitAt, batch, ledger);
      } catch (error) {
        // admitRecord turns every fault of the message into its rejection; this is the worker's own.
        ledger.giveBack(record.messageId, `the worker could not admit it: ${describeError(error).errorType}`);
      }
    }
    const { periodicDeliveries } = batch;
    let { work } = batch;

    const followUps = this.#periodic
      ?.afterDelivery(periodicDeliveries.map((d) => d.envelope))
      .catch(() => new Set(periodicDeliveries.map((d) => d.envelope)));
    work = await this.#withoutWithdrawn(work);
    if (ending.signal?.aborted) {
      // Too late to start anything: no claim is written, the work comes back as it came.
      for (const w of work) ledger.giveBack(w.record.messageId, ENDING);
      work = [];
    }
    const claimed = await claimBatch(this.#store, work, now, ledger, this.#log);
    for (const w of claimed.expired) {
      ledger.record(
        w.record.messageId,
        outcomeRow(w, {
          status: TaskState.REVOKED,
          errorType: 'TaskExpired',
          traceback: `TaskExpired: expired at ${w.envelope.expires}`,
          dateDone: new Date(now).toISOString(),
        }),
      );
      ledger.observe({
        queue: this.#queueOf(w.record, w.envelope),
        task: w.task.name,
        state: TaskState.REVOKED,
      });
    }
    const runnable = await applyRateLimits(this.#rateLimiter, claimed.runnable, {
      now,
      ledger,
      log: this.#log,
    });
    const outcomes = await mapLimit(runnable, this.#config.workerConcurrency ?? runnable.length, (w) =>
      runWork(w, ending, stateWriterFor(w, this.#store, this.#celery, this.#log)),
    );
    const started: Envelope[] = [];
    runnable.forEach((w, index) => {
      const ran = outcomes[index] as Ran;
      if (typeof ran !== 'string') started.push(w.envelope);
      this.#settle(w, ran, ledger);
    });

    await Promise.all([
      resendAll(this.#producer, ledger, Math.floor(now / 1000) + this.#config.resultExpires, this.#log),
      this.#periodic?.recordRuns(started).catch(() => undefined),
    ]);
    const written = await completeAll(this.#store, ledger, this.#log);
    const ran = [...runnable, ...claimed.expired];
    await mirrorCeleryOutcomes(
      this.#celery,
      { ran, finished: claimed.finished, written, poison: batch.celeryPoison },
      ledger,
      this.#log,
    );
    if (this.#followUps)
      await followUpBatch(this.#followUps, { ran, finished: claimed.finished, written }, ledger);
    const failedFollowUps = await followUps;
    for (const { messageId, envelope } of periodicDeliveries) {
      if (failedFollowUps?.has(envelope)) ledger.giveBack(messageId, 'a periodic follow-up failed');
    }
    if (ledger.poison.length > 0 && this.#sqs)
      await hastenPoison(this.#sqs, this.#config, ledger.poison, this.#log).catch(() => undefined);
  }

  /** One record's admission: rejected (poison), skipped, sent again for its eta, or work to claim. */
  #admit(
    record: SQSRecord,
    at: { now: number; remaining: number; requestId: string },
    batch: Admitted,
    ledger: BatchLedger,
  ): void {
    const { now } = at;
    const admission = admitRecord(record, {
      registry: this.#registry,
      config: this.#config,
      now,
      log: this.#log,
    });
    if (admission.kind === 'rejected') {
      const { rejected } = admission;
      ledger.poison.push(record);
      ledger.giveBack(record.messageId, firstLine(describeError(rejected.error).traceback));
      if (rejected.poison) ledger.record(record.messageId, rejected.poison);
      if (rejected.poison && 'celery' in rejected && rejected.celery)
        batch.celeryPoison.add(record.messageId);
      // Only names this worker knows become dimensions: a hostile sender could mint any number.
      const known = rejected.taskName !== undefined && this.#registry.get(rejected.taskName) !== undefined;
      ledger.observe({
        queue: this.#queueByArn.get(record.eventSourceARN) ?? 'unknown',
        task: known ? (rejected.taskName as string) : 'unknown',
        state: TaskState.FAILURE,
      });
      return;
    }
    if (admission.kind === 'skip') {
      // The schedule fires on a superset of Celery's days (EventBridge cannot restrict both day
      // fields): on the other days the tick is dropped, with no record, as Celery would not run.
      this.#log.debug('periodic run skipped by its day guard', { taskId: admission.envelope.id });
      return;
    }
    const { envelope, task } = admission;
    for (const run of admission.later)
      ledger.resends.push({ kind: 'later', messageId: record.messageId, ...run });
    if (envelope.beat) batch.periodicDeliveries.push({ messageId: record.messageId, envelope });
    if (batch.seen.has(envelope.id)) {
      ledger.giveBack(record.messageId, `task ${envelope.id} appears twice in this batch`);
      return;
    }
    batch.seen.add(envelope.id);
    if (admission.waitSeconds > 0) {
      ledger.resends.push({
        kind: 'eta',
        messageId: record.messageId,
        envelope,
        delaySeconds: admission.waitSeconds,
      });
      return;
    }
    batch.work.push({
      record,
      envelope,
      task,
      row: claimRow(envelope, task, {
        worker: at.requestId,
        now,
        invocationEnd: now + at.remaining,
        expiresAt: Math.floor(now / 1000) + this.#expiresFor(task),
      }),
    });
  }

  /** Queued runs of a disabled periodic task are dropped; if that cannot be read, they go ahead. */
  async #withoutWithdrawn(work: Work[]): Promise<Work[]> {
    if (!this.#periodic) return work;
    try {
      const withdrawn = await this.#periodic.withdrawn(work.map((w) => w.envelope));
      if (withdrawn.size === 0) return work;
      this.#log.info('queued periodic runs dropped: their periodic task is disabled', {
        runs: withdrawn.size,
      });
      return work.filter((w) => !withdrawn.has(w.envelope));
    } catch (error) {
      this.#log.warn('could not check for disabled periodic tasks', {
        error: describeError(error).errorType,
      });
      return work;
    }
  }

  #settle(w: Work, ran: Ran, ledger: BatchLedger): void {
    const messageId = w.record.messageId;
    try {
      if (ran === 'deferred') {
        ledger.resends.push(deferral(w, 1));
        return;
      }
      if (ran === 'interrupted') {
        ledger.giveBack(messageId, ENDING);
        return;
      }
      const settled = settle(w, ran.outcome, this.#expiresFor(w.task), this.#log);
      const state = 'resend' in settled ? TaskState.RETRY : settled.completion.completion.record.status;
      if ('resend' in settled) ledger.resends.push(settled.resend);
      else ledger.completions.push(settled.completion);
      ledger.observe({
        queue: this.#queueOf(w.record, w.envelope),
        task: w.task.name,
        state,
        runtimeMs: ran.outcome.runtimeMs,
        queueWaitMs: ran.startedAt - availableAt(w.record, w.envelope),
      });
    } catch (error) {
      // Nothing in settle should throw; if it does, the run still ends recorded, as this fault.
      const { errorType, traceback } = describeError(error);
      this.#log.error('could not settle a run; recorded as FAILURE', {
        taskId: w.envelope.id,
        error: errorType,
      });
      try {
        ledger.record(
          messageId,
          outcomeRow(w, {
            status: TaskState.FAILURE,
            errorType,
            traceback,
            dateDone: new Date().toISOString(),
          }),
        );
      } catch {
        ledger.giveBack(messageId, `could not settle task ${w.envelope.id}: ${errorType}`);
      }
    }
  }

  #emitMetrics(ledger: BatchLedger): void {
    try {
      for (const document of metricDocuments(ledger.observations, Date.now())) this.#metrics(document);
    } catch (error) {
      this.#log.warn('could not write metrics', { error: safeText((error as Error)?.message) });
    }
  }

  #queueOf(record: SQSRecord, envelope?: Envelope): string {
    return envelope?.queue ?? this.#queueByArn.get(record.eventSourceARN) ?? 'unknown';
  }

  #expiresFor(task: RegisteredTask): number {
    return task.options.resultExpires ?? this.#config.resultExpires;
  }
}

/** When the message could first have run: sent, or its eta if later. */
function availableAt(record: SQSRecord, envelope: Envelope): number {
  const sent = Number(record.attributes?.SentTimestamp);
  const eta = envelope.eta ? Date.parse(envelope.eta) : Number.NaN;
  return Math.max(Number.isFinite(sent) ? sent : Date.now(), Number.isFinite(eta) ? eta : 0);
}

function firstLine(text: string): string {
  return text.split('\n', 1)[0] ?? text;
}
