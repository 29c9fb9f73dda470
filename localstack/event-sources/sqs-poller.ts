import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { LocalInvocation } from '../lambda/invocation-scope.ts';
import type { PollerHooks } from './inflight-journal.ts';
import { toSqsRecord } from './sqs-event.ts';
import { type InvocationEnd, runInvocation, type SqsHandler } from './sqs-invoke.ts';

export type { SqsHandler } from './sqs-invoke.ts';

export interface SqsPollerOptions {
  sqs: SQSClient;
  queueUrl: string;
  queueArn: string;
  region: string;
  handler: SqsHandler;
  functionName: string;
  /** The function's timeout: the context's remaining time, and when a run counts as failed. */
  timeoutSeconds: number;
  memoryMb?: number;
  /** The mapping's `BatchSize`. @defaultValue 10 */
  batchSize?: number;
  /** The mapping's `MaximumBatchingWindowInSeconds`. @defaultValue 0 */
  maximumBatchingWindowSeconds?: number;
  /** The mapping's `ScalingConfig.MaximumConcurrency`. @defaultValue 5 */
  maxConcurrency?: number;
  /**
   * Pollers receiving at once, each gathering batches of its own; never more than `maxConcurrency`.
   * @defaultValue 5, as Lambda starts with
   */
  pollers?: number;
  /** `FunctionResponseTypes` includes `ReportBatchItemFailures`. @defaultValue false */
  reportBatchItemFailures?: boolean;
  /**
   * Long-poll wait of an idle receive. Lambda waits 20 s; shorter here because `stop()` lets the
   * receive in progress finish rather than abandon messages it may already have taken.
   * @defaultValue 2
   */
  waitTimeSeconds?: number;
  /** Sent with each receive in place of the queue's own visibility timeout (fast tests only). */
  visibilityTimeoutSeconds?: number;
  /** Called after every invocation, whatever its outcome. */
  onBatch?: (report: BatchReport) => void;
  /** SQS calls that failed (receive, delete); the poller carries on. @defaultValue console.error */
  onError?: (error: Error, during: 'receive' | 'delete' | 'release') => void;
  /** Told of every handle received and let go, so a run killed with SIGKILL leaves them written. */
  inflight?: PollerHooks;
}

export interface BatchReport {
  requestId: string;
  functionName: string;
  queueArn: string;
  messageIds: string[];
  /** Records the run did not finish; they come back after the visibility timeout. */
  failed: string[];
  /** The records of `failed`, as the function was given them (their bodies say which tasks). */
  returned: SQSRecord[];
  /**
   * `crash`: the invocation was abandoned mid-run, as when its container dies (`crashInvocation`);
   * `timeout`: it ran past the function timeout. Either way nothing it does later counts.
   */
  outcome: InvocationEnd['outcome'];
  /** Why records were returned, in a sentence: the error, the timeout, the crash's reason. */
  cause?: string;
  error?: Error;
  startedAt: number;
  durationMs: number;
  /** Invocations running at the start of this one, itself included. */
  concurrency: number;
}

export interface PollerStats {
  invocations: number;
  records: number;
  /** Records reported failed, or in a batch whose run threw or timed out. */
  failedRecords: number;
  deleted: number;
  handlerErrors: number;
  timeouts: number;
  /** Invocations abandoned mid-run (`crashInvocation`). */
  crashes: number;
  receives: number;
  /** Messages received but never handed to a handler (at stop), made visible again. */
  released: number;
  inFlight: number;
  peakConcurrency: number;
}

const SQS_BATCH = 10;
/**
 * Lambda reads a standard queue with five pollers at first, each gathering batches of its own
 * ("processing five batches at a time", services-sqs-scaling.html); fewer when the mapping's
 * maximum concurrency is lower. Five keep the local emulator busy without crowding it.
 */
const POLLERS = 5;
/** Between retries of a failing receive, so a struggling emulator is not hammered. */
const RECEIVE_BACKOFF_MS = 1000;
/** Beyond a receive's own wait: how long an emulator under load may take to answer. */
const REQUEST_GRACE_SECONDS = 60;

/**
 * Lambda's SQS event source mapping, in-process: five pollers (at most `maxConcurrency`) each
 * gather batches by `BatchSize` and batching window, at most `maxConcurrency` invocations run at
 * once (a batch being gathered holds a place among them), and each run's finished records are
 * deleted. Every batch is its own: what one invocation does never touches another's records.
 * Redrive to the DLQ is left to the queue: moto (like SQS) moves a message there on the receive
 * that would exceed `maxReceiveCount`, so such a message never reaches the handler.
 */
export class SqsPoller {
  readonly #o: Required<Omit<SqsPollerOptions, 'visibilityTimeoutSeconds' | 'onBatch' | 'inflight'>> &
    Pick<SqsPollerOptions, 'visibilityTimeoutSeconds' | 'onBatch' | 'inflight'>;
  readonly #inFlight = new Set<Promise<void>>();
  readonly #stats: PollerStats = {
    invocations: 0,
    records: 0,
    failedRecords: 0,
    deleted: 0,
    handlerErrors: 0,
    timeouts: 0,
    crashes: 0,
    receives: 0,
    released: 0,
    inFlight: 0,
    peakConcurrency: 0,
  };
  #running = false;
  /** Bumped by `kill()`: work begun under an older generation must not delete or report anything. */
  #generation = 0;
  #loops: Promise<void>[] = [];
  /** Pollers receiving a batch now: each holds one of the `maxConcurrency` places. */
  #gathering = 0;
  /** Pollers waiting for a place. */
  readonly #waiting = new Set<() => void>();

  constructor(options: SqsPollerOptions) {
    const batchSize = options.batchSize ?? 10;
    const window = options.maximumBatchingWindowSeconds ?? 0;
    if (batchSize < 1 || batchSize > 10_000) throw new RangeError('batchSize must be 1–10,000');
    if (batchSize > 10 && window <= 0) throw new RangeError('a batchSize over 10 needs a batching window');
    if (options.pollers !== undefined && options.pollers < 1)
      throw new RangeError('pollers must be at least 1');
    this.#o = {
      ...options,
      batchSize,
      maximumBatchingWindowSeconds: window,
      maxConcurrency: options.maxConcurrency ?? 5,
      pollers: options.pollers ?? POLLERS,
      reportBatchItemFailures: options.reportBatchItemFailures ?? false,
      waitTimeSeconds: Math.min(20, options.waitTimeSeconds ?? 2),
      memoryMb: options.memoryMb ?? 128,
      onError:
        options.onError ?? ((error, during) => console.error(`sqs poller ${during} failed:`, error.message)),
    };
  }

  get stats(): Readonly<PollerStats> {
    return { ...this.#stats, inFlight: this.#inFlight.size };
  }

  get running(): boolean {
    return this.#running;
  }

  start(): this {
    if (this.#running) return this;
    this.#running = true;
    const pollers = Math.min(this.#o.pollers, this.#o.maxConcurrency);
    this.#loops = Array.from({ length: pollers }, () => this.#poll());
    return this;
  }

  /**
   * Stops receiving, lets running invocations finish (and delete what they finished), and makes
   * visible again anything received but not yet handed to the function. Resolves when all is done.
   */
  async stop(): Promise<PollerStats> {
    this.#running = false;
    this.#wake();
    await Promise.all(this.#loops);
    while (this.#inFlight.size > 0) await Promise.all([...this.#inFlight]);
    return this.stats;
  }

  /**
   * The poller dies at once, as a crashed process would: nothing released, nothing deleted,
   * nothing waited for. Messages it held come back after their visibility timeout. An invocation
   * it started runs on to its end (on AWS the function is not the poller's process) but its
   * messages are not deleted. `start()` brings up a fresh poller. For fault tests.
   */
  kill(): void {
    this.#generation++;
    this.#running = false;
    // A dead process holds no places: a fresh poller must not wait for the old one's receives.
    this.#gathering = 0;
    this.#wake();
    this.#inFlight.clear();
  }

  /** A place may have come free (or the poller is stopping): waiting pollers look again. */
  #wake(): void {
    for (const resume of this.#waiting) resume();
    this.#waiting.clear();
  }

  async #poll(): Promise<void> {
    const generation = this.#generation;
    while (this.#running && generation === this.#generation) {
      if (this.#inFlight.size + this.#gathering >= this.#o.maxConcurrency) {
        // Receive nothing while every place is taken: held messages would only age toward their timeout.
        await new Promise<void>((resolve) => this.#waiting.add(resolve));
        continue;
      }
      this.#gathering++;
      let batch: Message[];
      try {
        batch = await this.#gather(generation);
      } finally {
        if (generation === this.#generation) this.#gathering--;
        this.#wake();
      }
      if (generation !== this.#generation) return; // killed while receiving: abandon the batch
      if (batch.length === 0) continue;
      if (!this.#running) {
        await this.#release(batch);
        break;
      }
      this.#launch(batch);
    }
  }

  /**
   * Receives until the batch is full or the window closes (timed from the first message). SQS waits
   * in whole seconds, so the window's last fraction is slept through and ended with one short
   * receive, rather than spent in a loop of empty ones: moto's receives cost more as queues deepen.
   */
  async #gather(generation: number): Promise<Message[]> {
    const batch: Message[] = [];
    const windowMs = this.#o.maximumBatchingWindowSeconds * 1000;
    let closesAt = Number.POSITIVE_INFINITY;
    let last = false;
    // Checked against the generation, not only `#running`: a poller killed and started again is
    // running, but its dead self must not go on receiving (each receive counts toward the DLQ).
    while (this.#running && generation === this.#generation && batch.length < this.#o.batchSize) {
      const remaining = closesAt - Date.now();
      if (remaining <= 0 && !last) break;
      const wait =
        batch.length === 0 ? this.#o.waitTimeSeconds : last ? 0 : Math.min(20, Math.floor(remaining / 1000));
      const want = Math.min(SQS_BATCH, this.#o.batchSize - batch.length);
      const messages = await this.#receive(want, wait);
      if (messages === undefined) {
        if (batch.length === 0 || last) break;
        continue;
      }
      if (messages.length > 0 && batch.length === 0) closesAt = Date.now() + windowMs;
      for (const message of messages) {
        // A window longer than the visibility timeout can see a message twice: keep the newer receipt.
        const earlier = batch.findIndex((m) => m.MessageId === message.MessageId);
        if (earlier >= 0) batch.splice(earlier, 1);
        batch.push(message);
      }
      if (batch.length === 0 || last) break;
      // A full receive means more may be waiting: go on. A short one means the queue is drained.
      if (messages.length < want && closesAt - Date.now() < 1000) {
        await sleep(Math.max(0, closesAt - Date.now()));
        last = true;
      }
    }
    return batch;
  }

  async #receive(max: number, waitSeconds: number): Promise<Message[] | undefined> {
    this.#stats.receives++;
    try {
      const response = await this.#o.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: this.#o.queueUrl,
          MaxNumberOfMessages: max,
          WaitTimeSeconds: waitSeconds,
          MessageSystemAttributeNames: ['All'],
          MessageAttributeNames: ['All'],
          ...(this.#o.visibilityTimeoutSeconds !== undefined || this.#o.inflight
            ? {
                VisibilityTimeout:
                  this.#o.inflight?.receiveVisibilitySeconds ?? this.#o.visibilityTimeoutSeconds,
              }
            : {}),
        }),
        // The SDK waits forever for an answer; a wedged connection must not wedge the poller.
        { abortSignal: AbortSignal.timeout((waitSeconds + REQUEST_GRACE_SECONDS) * 1000) },
      );
      const messages = response.Messages ?? [];
      return this.#o.inflight ? await this.#o.inflight.held(messages) : messages;
    } catch (error) {
      this.#o.onError(error as Error, 'receive');
      await sleep(RECEIVE_BACKOFF_MS);
      return undefined;
    }
  }

  #launch(batch: Message[]): void {
    const run = this.#invoke(batch).finally(() => {
      this.#inFlight.delete(run);
      this.#wake();
    });
    this.#inFlight.add(run);
    this.#stats.peakConcurrency = Math.max(this.#stats.peakConcurrency, this.#inFlight.size);
  }

  async #invoke(batch: Message[]): Promise<void> {
    const generation = this.#generation;
    const requestId = randomUUID();
    const startedAt = Date.now();
    const concurrency = this.#inFlight.size + 1;
    const records = batch.map((message) => toSqsRecord(message, this.#o.queueArn, this.#o.region));
    this.#stats.invocations++;
    this.#stats.records += records.length;
    const timeoutMs = this.#o.timeoutSeconds * 1000;
    const invocation = new LocalInvocation(requestId, this.#o.functionName, startedAt + timeoutMs);
    const ended = await runInvocation(this.#o, invocation, records, timeoutMs);
    const { outcome, failed } = ended;
    if (generation !== this.#generation) return; // the poller was killed: its deletes never happen
    if (outcome === 'error') this.#stats.handlerErrors++;
    if (outcome === 'timeout') this.#stats.timeouts++;
    if (outcome === 'crash') this.#stats.crashes++;
    this.#stats.failedRecords += failed.length;
    const keep = new Set(failed);
    await this.#delete(batch.filter((m) => !keep.has(m.MessageId as string)));
    // Deleted, or returned to the queue's own timing as Lambda returns them: no longer held.
    this.#o.inflight?.letGo(batch);
    this.#o.onBatch?.({
      requestId,
      functionName: this.#o.functionName,
      queueArn: this.#o.queueArn,
      messageIds: records.map((r) => r.messageId),
      ...ended,
      returned: records.filter((r) => keep.has(r.messageId)),
      startedAt,
      durationMs: Date.now() - startedAt,
      concurrency,
    });
  }

  async #delete(messages: Message[]): Promise<void> {
    for (let start = 0; start < messages.length; start += SQS_BATCH) {
      const chunk = messages.slice(start, start + SQS_BATCH);
      try {
        const response = await this.#o.sqs.send(
          new DeleteMessageBatchCommand({
            QueueUrl: this.#o.queueUrl,
            Entries: chunk.map((m, index) => ({
              Id: String(index),
              ReceiptHandle: m.ReceiptHandle as string,
            })),
          }),
          { abortSignal: AbortSignal.timeout(REQUEST_GRACE_SECONDS * 1000) },
        );
        this.#stats.deleted += response.Successful?.length ?? 0;
        if (response.Failed?.length) {
          const reasons = response.Failed.map((f) => `${f.Code}: ${f.Message ?? ''}`).join('; ');
          this.#o.onError(new Error(`${response.Failed.length} not deleted (${reasons})`), 'delete');
        }
      } catch (error) {
        // Undeleted messages come back after their timeout: delivered twice, never lost.
        this.#o.onError(error as Error, 'delete');
      }
    }
  }

  async #release(messages: Message[]): Promise<void> {
    for (let start = 0; start < messages.length; start += SQS_BATCH) {
      const chunk = messages.slice(start, start + SQS_BATCH);
      try {
        await this.#o.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: this.#o.queueUrl,
            Entries: chunk.map((m, index) => ({
              Id: String(index),
              ReceiptHandle: m.ReceiptHandle as string,
              VisibilityTimeout: 0,
            })),
          }),
        );
        this.#stats.released += chunk.length;
        this.#o.inflight?.letGo(chunk);
      } catch (error) {
        this.#o.onError(error as Error, 'release');
      }
    }
  }
}
