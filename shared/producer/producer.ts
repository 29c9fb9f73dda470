import { hostname } from 'node:os';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import type { CelerityConfig, QueueTarget } from '../config/config.ts';
import { encodeEnvelope } from '../envelope/codec.ts';
import { MessageTooLarge } from '../envelope/errors.ts';
import type { Envelope, EnvelopeInput } from '../envelope/schema.ts';
import { ValidationError } from '../errors.ts';
import type { TaskRegistry } from '../task/registry.ts';
import { routeTask } from '../task/routing.ts';
import { validateArgs } from '../task/validate-args.ts';
import { callToEnvelope, type TaskCall } from './call.ts';
import { EnqueueError, type SentTask } from './errors.ts';
import { createOneTimeSchedule } from './one-time-schedule.ts';

/** SQS's longest per-message delay; anything later goes through a one-time schedule. */
export const MAX_SQS_DELAY_SECONDS = 900;
const SQS_BATCH = 10;
const SEND_ATTEMPTS = 3;

export interface ProducerOptions {
  config: CelerityConfig;
  sqs: SQSClient;
  scheduler: SchedulerClient;
  /** Tasks known here have their args checked before sending; unknown names are sent as they are. */
  registry?: TaskRegistry;
  /** Batches sent at once by `sendMany`. @defaultValue 8 */
  concurrency?: number;
  /** Recorded as the envelope's `origin` when a call gives none. @defaultValue the host name */
  origin?: string;
}

interface Prepared {
  index: number;
  envelope: Envelope;
  body: string;
  queue: string;
  target: QueueTarget;
  delaySeconds: number;
  viaScheduler: boolean;
}

/** Puts task messages on their queues: Celery's `apply_async`, for one call or for many. */
export class Producer {
  readonly #config: CelerityConfig;
  readonly #sqs: SQSClient;
  readonly #scheduler: SchedulerClient;
  readonly #registry: TaskRegistry | undefined;
  readonly #concurrency: number;
  readonly #origin: string;
  readonly #maxSize = new Map<string, Promise<number>>();

  constructor(options: ProducerOptions) {
    this.#config = options.config;
    this.#sqs = options.sqs;
    this.#scheduler = options.scheduler;
    this.#registry = options.registry;
    this.#concurrency = options.concurrency ?? 8;
    this.#origin = options.origin ?? `producer@${hostname()}`;
  }

  /** Sends one call. */
  async send(call: TaskCall): Promise<SentTask> {
    const [sent] = await this.sendMany([call]);
    return sent as SentTask;
  }

  /**
   * Sends many calls with `SendMessageBatch`, ten a request and several requests at once. Every
   * call is validated before anything is sent; if some messages still fail, the error lists them
   * and those that went.
   */
  async sendMany(calls: readonly TaskCall[]): Promise<SentTask[]> {
    const now = Date.now();
    const prepared = await Promise.all(
      calls.map((call, index) => this.#prepare(callToEnvelope(call, now), index, now, `calls[${index}]`)),
    );
    return this.#dispatch(prepared);
  }

  /**
   * Sends envelopes already built (a retry, a deferral, an envelope from another language).
   * `delaySeconds` overrides the delay that the envelope's eta implies.
   */
  async sendEnvelopes(
    items: readonly { envelope: EnvelopeInput; delaySeconds?: number }[],
  ): Promise<SentTask[]> {
    const now = Date.now();
    const prepared = await Promise.all(
      items.map((item, index) =>
        this.#prepare(item.envelope, index, now, `envelopes[${index}]`, item.delaySeconds),
      ),
    );
    return this.#dispatch(prepared);
  }

  async #prepare(
    input: EnvelopeInput,
    index: number,
    now: number,
    field: string,
    delayOverride?: number,
  ): Promise<Prepared> {
    const task = this.#registry?.get(input.task);
    const queue =
      input.queue ??
      routeTask(input.task, this.#config.taskRoutes, task?.options.queue, this.#config.defaultQueue);
    const target = this.#config.queues[queue];
    if (!target) {
      const known = Object.keys(this.#config.queues).join(', ') || 'none configured';
      throw ValidationError.of(`${field}.queue`, `no queue named ${JSON.stringify(queue)} (known: ${known})`);
    }
    if (task) validateArgs(task, input.args ?? [], input.kwargs ?? {}, field);
    const { envelope, body } = encodeEnvelope({ origin: this.#origin, ...input, queue });
    const limit = await this.#maxMessageSize(target.url);
    const bytes = Buffer.byteLength(body);
    if (bytes > limit) throw new MessageTooLarge(envelope.task, bytes, limit);
    const delayMs =
      delayOverride !== undefined ? delayOverride * 1000 : envelope.eta ? Date.parse(envelope.eta) - now : 0;
    const delaySeconds = Math.max(0, Math.ceil(delayMs / 1000));
    const viaScheduler = delaySeconds > MAX_SQS_DELAY_SECONDS;
    if (viaScheduler && !this.#config.scheduler) {
      throw ValidationError.of(
        `${field}.eta`,
        `a delay of ${delaySeconds} s is over SQS's ${MAX_SQS_DELAY_SECONDS} s and needs the scheduler, which is not configured`,
      );
    }
    return { index, envelope, body, queue, target, delaySeconds, viaScheduler };
  }

  async #dispatch(prepared: Prepared[]): Promise<SentTask[]> {
    const results: (SentTask | undefined)[] = new Array(prepared.length);
    const failed: { index: number; taskId: string; reason: string }[] = [];
    const jobs: (() => Promise<void>)[] = [];

    const byQueue = new Map<string, Prepared[]>();
    for (const item of prepared) {
      if (item.viaScheduler) {
        jobs.push(async () => {
          try {
            await createOneTimeSchedule(
              this.#scheduler,
              this.#config.scheduler as NonNullable<CelerityConfig['scheduler']>,
              {
                taskId: item.envelope.id,
                retries: item.envelope.retries,
                when: new Date(Date.now() + item.delaySeconds * 1000),
                queueArn: item.target.arn,
                body: item.body,
              },
            );
            results[item.index] = sentTask(item, 'scheduler');
          } catch (error) {
            failed.push({ index: item.index, taskId: item.envelope.id, reason: (error as Error).message });
          }
        });
      } else {
        const list = byQueue.get(item.queue) ?? [];
        list.push(item);
        byQueue.set(item.queue, list);
      }
    }
    for (const items of byQueue.values()) {
      const limit = await this.#maxMessageSize((items[0] as Prepared).target.url);
      for (const batch of chunkBatches(items, limit)) {
        jobs.push(async () => {
          const unsent = await this.#sendBatch(batch);
          for (const item of batch) {
            const reason = unsent.get(item.index);
            if (reason === undefined) results[item.index] = sentTask(item, 'sqs');
            else failed.push({ index: item.index, taskId: item.envelope.id, reason });
          }
        });
      }
    }
    await runPool(jobs, this.#concurrency);
    const sent = results.filter((r): r is SentTask => r !== undefined);
    if (failed.length > 0)
      throw new EnqueueError(
        failed.sort((a, b) => a.index - b.index),
        sent,
      );
    return results as SentTask[];
  }

  /** Sends one batch, sending again the entries SQS reports as failed; returns what never went. */
  async #sendBatch(batch: readonly Prepared[]): Promise<Map<number, string>> {
    let pending = batch;
    const reasons = new Map<number, string>();
    for (let attempt = 1; pending.length > 0 && attempt <= SEND_ATTEMPTS; attempt++) {
      const entries: SendMessageBatchRequestEntry[] = pending.map((item) => ({
        Id: String(item.index),
        MessageBody: item.body,
        ...(item.delaySeconds > 0 ? { DelaySeconds: item.delaySeconds } : {}),
      }));
      try {
        const response = await this.#sqs.send(
          new SendMessageBatchCommand({ QueueUrl: (pending[0] as Prepared).target.url, Entries: entries }),
        );
        const failedIds = new Map(
          (response.Failed ?? []).map((f) => [f.Id, `${f.Code}: ${f.Message ?? ''}`]),
        );
        for (const item of pending) {
          const reason = failedIds.get(String(item.index));
          if (reason === undefined) reasons.delete(item.index);
          else reasons.set(item.index, reason);
        }
        pending = pending.filter((item) => failedIds.has(String(item.index)));
      } catch (error) {
        for (const item of pending) reasons.set(item.index, (error as Error).message);
        if (attempt === SEND_ATTEMPTS) break;
      }
    }
    return reasons;
  }

  /** The queue's own cap (`MaximumMessageSize`), read once per queue. */
  #maxMessageSize(url: string): Promise<number> {
    let size = this.#maxSize.get(url);
    if (!size) {
      size = this.#sqs
        .send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['MaximumMessageSize'] }))
        .then((r) => Number(r.Attributes?.MaximumMessageSize ?? 262_144));
      size.catch(() => this.#maxSize.delete(url));
      this.#maxSize.set(url, size);
    }
    return size;
  }
}

function sentTask(item: Prepared, via: SentTask['via']): SentTask {
  return {
    taskId: item.envelope.id,
    task: item.envelope.task,
    queue: item.queue,
    via,
    eta: item.envelope.eta,
  };
}

/** Ten entries a batch, and no more bytes in a batch than the queue takes in one message. */
function chunkBatches(items: readonly Prepared[], maxBytes: number): Prepared[][] {
  const batches: Prepared[][] = [];
  let current: Prepared[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(item.body);
    if (current.length === SQS_BATCH || (current.length > 0 && bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length) batches.push(current);
  return batches;
}

async function runPool(jobs: readonly (() => Promise<void>)[], concurrency: number): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, jobs.length) }, async () => {
    while (next < jobs.length) {
      const job = jobs[next++] as () => Promise<void>;
      await job();
    }
  });
  await Promise.all(lanes);
}
