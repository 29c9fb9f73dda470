import { randomUUID } from 'node:crypto';
import { SendMessageCommand } from '@aws-sdk/client-sqs';
import { isAwsError } from '../../shared/aws/errors.ts';
import { createLogger, type Logger } from '../../shared/log.ts';
import { compileFilterCriteria } from './event-filter.ts';
import { type DiscardCondition, invocationRecord } from './stream-event.ts';
import { invokeBatch, type RunResult } from './stream-invoke.ts';
import { describeShards, type ReaderContext, ShardReader } from './stream-reader.ts';
import type { StreamPollerActivity, StreamPollerOptions, StreamPollerStats } from './stream-types.ts';

export type { StreamInvocationRecord } from './stream-event.ts';
export { createStreamsClient } from './stream-reader.ts';
export type {
  StreamBatchReport,
  StreamHandler,
  StreamPollerActivity,
  StreamPollerOptions,
  StreamPollerStats,
} from './stream-types.ts';

const READ_BACKOFF_MS = 1000;
const MAX_RETRY_DELAY_MS = 30_000;
const REQUEST_TIMEOUT_MS = 60_000;

/**
 * Lambda's DynamoDB Streams event source mapping, in-process: reads each shard in order (children
 * after their parent), drops records no filter matches, gathers batches by size, window and
 * payload, and runs one batch per shard at a time. A failure is retried from the lowest failed
 * record (partial batch response) or whole (a throw or timeout, bisected if asked) until
 * `MaximumRetryAttempts` or `MaximumRecordAgeInSeconds`, then the batch is described to the
 * on-failure queue and skipped. Checkpoints live in memory only: a new poller starts again at
 * its starting position.
 */
export class StreamPoller {
  readonly #o: StreamPollerOptions &
    Required<
      Pick<
        StreamPollerOptions,
        | 'batchSize'
        | 'maximumBatchingWindowSeconds'
        | 'maximumRetryAttempts'
        | 'maximumRecordAgeSeconds'
        | 'pollIntervalMs'
        | 'retryDelayMs'
        | 'shardRefreshMs'
        | 'memoryMb'
        | 'functionArn'
      >
    >;
  readonly #reader: ReaderContext;
  readonly #logger: Logger;
  readonly #shards = new Map<string, ShardReader>();
  readonly #stats: StreamPollerStats = {
    invocations: 0,
    records: 0,
    filteredOut: 0,
    succeeded: 0,
    handlerErrors: 0,
    timeouts: 0,
    partialFailures: 0,
    retries: 0,
    bisections: 0,
    discardedRecords: 0,
    destinationMessages: 0,
    getRecords: 0,
    shards: 0,
    inFlight: 0,
  };
  #running = false;
  #discovered = false;
  #abort = new AbortController();
  #loop: Promise<void> | undefined;
  #wake: (() => void) | undefined;

  constructor(options: StreamPollerOptions) {
    const o = {
      ...options,
      batchSize: options.batchSize ?? 100,
      maximumBatchingWindowSeconds: options.maximumBatchingWindowSeconds ?? 0,
      maximumRetryAttempts: options.maximumRetryAttempts ?? -1,
      maximumRecordAgeSeconds: options.maximumRecordAgeSeconds ?? -1,
      pollIntervalMs: options.pollIntervalMs ?? 250,
      retryDelayMs: options.retryDelayMs ?? 1000,
      shardRefreshMs: options.shardRefreshMs ?? 10_000,
      memoryMb: options.memoryMb ?? 128,
      functionArn:
        options.functionArn ??
        `arn:aws:lambda:${options.region}:123456789012:function:${options.functionName}`,
    };
    if (!['TRIM_HORIZON', 'LATEST'].includes(o.startingPosition))
      throw new RangeError(`startingPosition must be TRIM_HORIZON or LATEST, not ${o.startingPosition}`);
    if (!(o.batchSize >= 1 && o.batchSize <= 10_000)) throw new RangeError('batchSize must be 1–10,000');
    if (!(o.maximumBatchingWindowSeconds >= 0 && o.maximumBatchingWindowSeconds <= 300))
      throw new RangeError('maximumBatchingWindowSeconds must be 0–300');
    if (!(o.maximumRetryAttempts >= -1 && o.maximumRetryAttempts <= 10_000))
      throw new RangeError('maximumRetryAttempts must be -1–10,000');
    if (!(o.maximumRecordAgeSeconds >= -1))
      throw new RangeError('maximumRecordAgeSeconds must be -1 or more');
    this.#o = o;
    this.#reader = {
      streams: o.streams,
      streamArn: o.streamArn,
      region: o.region,
      filter: compileFilterCriteria(o.filterCriteria),
      request: () => this.#request(),
      onRead: (filteredOut) => {
        this.#stats.getRecords++;
        this.#stats.filteredOut += filteredOut;
      },
    };
    this.#logger =
      options.logger ?? createLogger({ component: 'stream-poller', function: options.functionName });
  }

  get stats(): Readonly<StreamPollerStats> {
    const reading = [...this.#shards.values()].filter((s) => s.loop && !s.done).length;
    return { ...this.#stats, shards: this.#running ? reading : 0 };
  }

  get running(): boolean {
    return this.#running;
  }

  start(): this {
    if (this.#running) return this;
    this.#running = true;
    this.#abort = new AbortController();
    // After a stop, each shard goes on from its in-memory checkpoint.
    for (const shard of this.#shards.values()) shard.loop = undefined;
    this.#loop = this.#run();
    return this;
  }

  /**
   * Resolves once every shard being read has its first iterator: with `LATEST`, writes after this
   * are delivered. Rejects if that takes longer than `timeoutMs` or the poller stops.
   */
  async ready(timeoutMs = 30_000): Promise<void> {
    const until = Date.now() + timeoutMs;
    const started = () => [...this.#shards.values()].every((s) => !s.loop || s.done || s.positioned);
    while (!(this.#discovered && started())) {
      if (!this.#running) throw new Error('the stream poller stopped before it was ready');
      if (Date.now() > until)
        throw new Error(`the stream poller was not reading ${this.#o.streamArn} in time`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
  }

  /**
   * Stops reading: a running invocation finishes (and its outcome is applied, a discard included),
   * waits and pending retries are cut short. Resolves when all is done.
   */
  async stop(): Promise<StreamPollerStats> {
    this.#running = false;
    this.#abort.abort();
    await this.#loop;
    await Promise.all([...this.#shards.values()].map((s) => s.loop));
    return this.stats;
  }

  #report(error: unknown, during: StreamPollerActivity): void {
    const e = error instanceof Error ? error : new Error(String(error));
    if (this.#o.onError) this.#o.onError(e, during);
    else
      this.#logger.error(`stream poller ${during} failed`, { error: e.message, stream: this.#o.streamArn });
  }

  /** Resolves after `ms`, at stop, or (when `wakeable`) when a shard ends and new ones may exist. */
  #pause(ms: number, wakeable = false): Promise<void> {
    const signal = this.#abort.signal;
    if (signal.aborted) return Promise.resolve();
    return new Promise((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        signal.removeEventListener('abort', finish);
        if (wakeable) this.#wake = undefined;
        resolve();
      };
      const timer = setTimeout(finish, ms);
      signal.addEventListener('abort', finish, { once: true });
      if (wakeable) this.#wake = finish;
    });
  }

  #request() {
    return { abortSignal: AbortSignal.any([this.#abort.signal, AbortSignal.timeout(REQUEST_TIMEOUT_MS)]) };
  }

  async #run(): Promise<void> {
    while (this.#running) {
      try {
        await this.#discover();
      } catch (error) {
        if (this.#running) this.#report(error, 'describe');
      }
      await this.#pause(this.#discovered ? this.#o.shardRefreshMs : READ_BACKOFF_MS, true);
    }
  }

  async #discover(): Promise<void> {
    const shards = await describeShards(this.#reader);
    const initial = !this.#discovered;
    for (const shard of shards) {
      if (this.#shards.has(shard.ShardId as string)) continue;
      // Shards born after the start are read whole, as Lambda reads a parent's children.
      const start = initial ? this.#o.startingPosition : 'TRIM_HORIZON';
      const reader = new ShardReader(shard, start, this.#reader);
      // A shard closed before a LATEST start holds nothing the mapping should see.
      reader.done =
        initial && start === 'LATEST' && shard.SequenceNumberRange?.EndingSequenceNumber !== undefined;
      this.#shards.set(reader.id, reader);
    }
    this.#discovered = true;
    this.#launchReady();
  }

  #launchReady(): void {
    for (const shard of this.#shards.values()) {
      if (shard.loop || shard.done || !this.#running) continue;
      const parent = shard.parentId ? this.#shards.get(shard.parentId) : undefined;
      if (parent && !parent.done) continue;
      shard.loop = this.#readShard(shard).finally(() => {
        if (!shard.done) return;
        this.#launchReady();
        this.#wake?.();
      });
    }
  }

  async #readShard(shard: ShardReader): Promise<void> {
    const { batchSize, pollIntervalMs } = this.#o;
    const windowMs = this.#o.maximumBatchingWindowSeconds * 1000;
    while (this.#running) {
      let read = 0;
      if (!shard.ended && !shard.full(batchSize)) {
        try {
          read = await shard.read();
        } catch (error) {
          if (!this.#running) break;
          if (!isAwsError(error, 'ExpiredIteratorException')) {
            this.#report(error, 'read');
            await this.#pause(READ_BACKOFF_MS);
          }
          continue;
        }
      }
      if (!this.#running) break;
      const queuedAt = shard.headQueuedAt;
      if (queuedAt === undefined) {
        if (shard.ended) {
          shard.done = true;
          break;
        }
        if (read === 0) await this.#pause(pollIntervalMs);
        continue;
      }
      const windowLeft = queuedAt + windowMs - Date.now();
      if (!shard.full(batchSize) && !shard.ended && windowLeft > 0) {
        if (read === 0) await this.#pause(Math.min(pollIntervalMs, windowLeft));
        continue;
      }
      await this.#deliver(shard, shard.batchLength(batchSize));
    }
  }

  /** Takes the first `count` records of the queue to an end: finished, discarded, or left at stop. */
  async #deliver(shard: ShardReader, count: number, retriesSoFar = 0): Promise<void> {
    let n = count;
    let retries = retriesSoFar;
    let invokes = 0;
    let functionError: string | undefined;
    while (n > 0 && this.#running) {
      n -= await this.#expire(shard, n, invokes, functionError);
      if (n === 0) return;
      const result = await this.#invoke(shard, n, ++invokes);
      if (result.resumeAt === undefined) {
        shard.take(n);
        return;
      }
      // Records before the lowest failed one are done: the checkpoint moves past them.
      shard.take(result.resumeAt);
      n -= result.resumeAt;
      functionError = result.functionError;
      if (!this.#running) return;
      if (functionError && this.#o.bisectBatchOnFunctionError && n > 1) {
        // Halving spends no retry: each half is delivered (or discarded) in turn, in order.
        this.#stats.bisections++;
        const half = Math.ceil(n / 2);
        await this.#deliver(shard, half, retries);
        if (this.#running) await this.#deliver(shard, n - half, retries);
        return;
      }
      retries++;
      const max = this.#o.maximumRetryAttempts;
      if (max >= 0 && retries > max) {
        await this.#discard(shard, n, 'RetryAttemptsExhausted', invokes, functionError);
        return;
      }
      this.#stats.retries++;
      await this.#pause(Math.min(MAX_RETRY_DELAY_MS, this.#o.retryDelayMs * 2 ** (retries - 1)));
    }
  }

  /** Discards the records at the head of the batch older than `MaximumRecordAgeInSeconds`. */
  async #expire(shard: ShardReader, n: number, invokes: number, functionError?: string): Promise<number> {
    if (this.#o.maximumRecordAgeSeconds < 0) return 0;
    const oldest = Date.now() / 1000 - this.#o.maximumRecordAgeSeconds;
    const records = shard.head(n);
    const young = records.findIndex((r) => (r.dynamodb?.ApproximateCreationDateTime ?? oldest) >= oldest);
    const expired = young < 0 ? n : young;
    if (expired > 0) await this.#discard(shard, expired, 'RecordAgeExceeded', invokes, functionError);
    return expired;
  }

  async #discard(
    shard: ShardReader,
    n: number,
    condition: DiscardCondition,
    invokes: number,
    functionError: string | undefined,
  ): Promise<void> {
    const records = shard.head(n);
    const message = invocationRecord({
      requestId: randomUUID(),
      functionArn: this.#o.functionArn,
      condition,
      approximateInvokeCount: invokes,
      ...(functionError ? { functionError } : {}),
      shardId: shard.id,
      streamArn: this.#o.streamArn,
      records,
    });
    this.#logger.warn('stream records discarded', {
      condition,
      ...message.DDBStreamBatchInfo,
      destination: this.#o.onFailure?.queueUrl ?? 'none',
    });
    this.#stats.discardedRecords += n;
    if (this.#o.onFailure) {
      try {
        // Not cut short by stop(): the record of a skipped batch is what lets it be replayed.
        await this.#o.onFailure.sqs.send(
          new SendMessageCommand({
            QueueUrl: this.#o.onFailure.queueUrl,
            MessageBody: JSON.stringify(message),
          }),
          { abortSignal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
        );
        this.#stats.destinationMessages++;
      } catch (error) {
        this.#report(error, 'destination');
      }
    }
    shard.take(n);
  }

  async #invoke(shard: ShardReader, n: number, attempt: number): Promise<RunResult> {
    const records = shard.head(n);
    this.#stats.invocations++;
    this.#stats.records += n;
    this.#stats.inFlight++;
    const { result, report } = await invokeBatch(this.#o, shard.id, records, attempt);
    this.#stats.inFlight--;
    if (report.outcome === 'error') this.#stats.handlerErrors++;
    if (report.outcome === 'timeout') this.#stats.timeouts++;
    if (report.outcome === 'partial') this.#stats.partialFailures++;
    this.#stats.succeeded += result.resumeAt ?? n;
    this.#o.onBatch?.(report);
    return result;
  }
}
