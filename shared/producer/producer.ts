import { hostname } from 'node:os';
import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import {
  GetQueueAttributesCommand,
  SendMessageBatchCommand,
  type SendMessageBatchRequestEntry,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { isAwsError } from '../aws/errors.ts';
import { chunkBySize, mapLimit } from '../batches.ts';
import type { CelerityConfig, QueueTarget } from '../config/config.ts';
import { ENVELOPE_BOUNDS } from '../envelope/bounds.ts';
import { encodeEnvelope } from '../envelope/codec.ts';
import { MessageTooLargeError } from '../envelope/errors.ts';
import type { Envelope, EnvelopeInput } from '../envelope/schema.ts';
import { exceptionTypeOf, ValidationError } from '../errors.ts';
import type { TaskRegistry } from '../task/registry.ts';
import { routeTask } from '../task/routing.ts';
import { validateArgs } from '../task/validate-args.ts';
import { callToEnvelope, type TaskCall } from './call.ts';
import { EnqueueError, type EnqueueFailure, ScheduleConflictError, type SentTask } from './errors.ts';
import { createOneTimeSchedule } from './one-time-schedule.ts';

/** SQS's longest per-message delay; anything later goes through a one-time schedule. */
export const MAX_SQS_DELAY_SECONDS = 900;
const SEND_ATTEMPTS = 3;
/** SQS takes at most ten entries in one SendMessageBatch. */
const SQS_BATCH = 10;

export interface ProducerOptions {
  config: CelerityConfig;
  sqs: SQSClient;
  /** Or a function that gives it, called at the first far ETA: a worker that never has one never builds it. */
  scheduler: SchedulerClient | (() => SchedulerClient);
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
  /** When it should arrive (epoch ms): the time of its one-time schedule, if it needs one. */
  due: number;
  viaScheduler: boolean;
}

/** A message refused before sending: invalid, too large, for no queue, or its queue unreadable. */
interface Refused {
  index: number;
  taskId: string;
  error: Error;
}

type Fail = (index: number, taskId: string, error: unknown, permanent?: boolean) => void;

/** The message's own fault, which sending again cannot mend; anything else may work later. */
function isPermanent(error: unknown): boolean {
  return (
    error instanceof ValidationError ||
    error instanceof MessageTooLargeError ||
    error instanceof ScheduleConflictError ||
    isAwsError(error, 'ValidationException')
  );
}

/** What `sendMany` throws for calls refused before anything was sent. */
function refusalError(refused: readonly Refused[]): Error {
  const transient = refused.find((r) => !isPermanent(r.error));
  if (transient) return transient.error;
  if (refused.length === 1) return (refused[0] as Refused).error;
  return new ValidationError(
    refused.flatMap(({ index, error }) =>
      error instanceof ValidationError
        ? error.issues
        : [{ field: `calls[${index}]`, message: error.message }],
    ),
    { cause: refused[0]?.error },
  );
}

/** Puts task messages on their queues: Celery's `apply_async`, for one call or for many. */
export class Producer {
  readonly #config: CelerityConfig;
  readonly #sqs: SQSClient;
  readonly #scheduler: () => SchedulerClient;
  readonly #registry: TaskRegistry | undefined;
  readonly #concurrency: number;
  readonly #origin: string;
  readonly #maxSize = new Map<string, Promise<number>>();

  constructor(options: ProducerOptions) {
    this.#config = options.config;
    this.#sqs = options.sqs;
    const { scheduler } = options;
    this.#scheduler = typeof scheduler === 'function' ? scheduler : () => scheduler;
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
   * call is validated before anything is sent: a list with a bad call sends nothing and throws
   * that call's error (a `ValidationError` naming every bad call when there are several), so the
   * list can be fixed and sent again without doubles. Calls SQS or the Scheduler then refuse are
   * listed in an `EnqueueError`, beside those that went.
   */
  async sendMany(calls: readonly TaskCall[]): Promise<SentTask[]> {
    return this.#finish(await this.#prepareCalls(calls), []);
  }

  /** Checks calls as `sendMany` would and sends nothing: throws what `sendMany` would refuse. */
  async check(calls: readonly TaskCall[]): Promise<void> {
    await this.#prepareCalls(calls);
  }

  async #prepareCalls(calls: readonly TaskCall[]): Promise<Prepared[]> {
    const now = Date.now();
    const { prepared, refused } = await this.#prepareAll(
      calls.map((call, index) => ({
        index,
        field: `calls[${index}]`,
        input: () => callToEnvelope(call, now),
      })),
      now,
    );
    if (refused.length > 0) throw refusalError(refused);
    return prepared;
  }

  /**
   * Sends envelopes already built (a retry, a deferral, an envelope from another language), each
   * on its own: one that is invalid, too large once its eta is added, for an unknown queue or too
   * far ahead without a scheduler is refused without holding back the others. Any refused or
   * unsent is listed in an `EnqueueError` (`permanent` when the envelope is at fault), beside
   * those that went. `delaySeconds` overrides the delay that the envelope's eta implies.
   */
  async sendEnvelopes(
    items: readonly { envelope: EnvelopeInput; delaySeconds?: number }[],
  ): Promise<SentTask[]> {
    const now = Date.now();
    const { prepared, refused } = await this.#prepareAll(
      items.map((item, index) => ({
        index,
        field: `envelopes[${index}]`,
        input: () => item.envelope,
        delaySeconds: item.delaySeconds,
        built: true,
      })),
      now,
    );
    return this.#finish(prepared, refused);
  }

  async #prepareAll(
    items: readonly {
      index: number;
      field: string;
      input: () => EnvelopeInput;
      delaySeconds?: number;
      built?: boolean;
    }[],
    now: number,
  ): Promise<{ prepared: Prepared[]; refused: Refused[] }> {
    const prepared: Prepared[] = [];
    const refused: Refused[] = [];
    await Promise.all(
      items.map(async (item) => {
        let input: EnvelopeInput | undefined;
        try {
          input = item.input();
          prepared.push(
            await this.#prepare(input, item.index, now, item.field, item.delaySeconds, item.built),
          );
        } catch (error) {
          const taskId = typeof input?.id === 'string' ? input.id : '';
          refused.push({ index: item.index, taskId, error: error as Error });
        }
      }),
    );
    return { prepared, refused: refused.sort((a, b) => a.index - b.index) };
  }

  async #prepare(
    input: EnvelopeInput,
    index: number,
    now: number,
    field: string,
    delayOverride?: number,
    built = false,
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
    if (delayOverride !== undefined && !(Number.isFinite(delayOverride) && delayOverride >= 0)) {
      throw ValidationError.of(
        `${field}.delaySeconds`,
        `must be a finite number of seconds, not ${delayOverride}`,
      );
    }
    // An envelope already built (a worker's eta re-send or retry) keeps its sender's origin, even none.
    const { envelope, body } = encodeEnvelope(
      built ? { ...input, queue } : { origin: this.#origin, ...input, queue },
    );
    const limit = await this.#maxMessageSize(target.url);
    const bytes = Buffer.byteLength(body);
    if (bytes > limit) throw new MessageTooLargeError(envelope.task, bytes, limit);
    const etaAt = envelope.eta ? Date.parse(envelope.eta) : undefined;
    const delayMs =
      delayOverride !== undefined ? delayOverride * 1000 : etaAt !== undefined ? etaAt - now : 0;
    const delaySeconds = Math.max(0, Math.ceil(delayMs / 1000));
    // The eta itself when there is one, so a re-send asks for the same time.
    const due = delayOverride === undefined && etaAt !== undefined ? etaAt : now + delaySeconds * 1000;
    if (!(due < ENVELOPE_BOUNDS.latest)) {
      throw ValidationError.of(`${field}.delaySeconds`, `a delay of ${delaySeconds} s is past 2200-01-01`);
    }
    const viaScheduler = delaySeconds > MAX_SQS_DELAY_SECONDS;
    if (viaScheduler && !this.#config.scheduler) {
      throw ValidationError.of(
        `${field}.eta`,
        `a delay of ${delaySeconds} s is over SQS's ${MAX_SQS_DELAY_SECONDS} s and needs the scheduler, which is not configured`,
      );
    }
    return { index, envelope, body, queue, target, delaySeconds, due, viaScheduler };
  }

  /**
   * Sends what was prepared; throws an `EnqueueError` if anything (refused before, or now) did not
   * go, its `cause` the first failure's own error (a `ScheduleConflict`, a `MessageTooLarge`, ...).
   */
  async #finish(prepared: Prepared[], refused: readonly Refused[]): Promise<SentTask[]> {
    const failed: EnqueueFailure[] = [];
    const causes = new Map<number, unknown>();
    const fail: Fail = (index, taskId, error, permanent = isPermanent(error)) => {
      const errorType = exceptionTypeOf(error);
      failed.push({ index, taskId, reason: (error as Error).message, permanent, errorType });
      causes.set(index, error);
    };
    for (const r of refused) fail(r.index, r.taskId, r.error);
    const results = await this.#dispatch(prepared, fail);
    // In the order given; a sparse array's holes are the ones that did not go.
    const sent = results.filter((r): r is SentTask => r !== undefined);
    if (failed.length === 0) return sent;
    failed.sort((a, b) => a.index - b.index);
    throw new EnqueueError(failed, sent, { cause: causes.get((failed[0] as EnqueueFailure).index) });
  }

  /** Sends each prepared message; each that does not go is reported to `fail`. */
  async #dispatch(prepared: Prepared[], fail: Fail): Promise<(SentTask | undefined)[]> {
    const results: (SentTask | undefined)[] = [];
    const done = (item: Prepared, sent: SentTask) => {
      results[item.index] = sent;
    };
    const jobs: (() => Promise<void>)[] = [];
    const byQueue = new Map<string, Prepared[]>();
    for (const item of [...prepared].sort((a, b) => a.index - b.index)) {
      if (item.viaScheduler) {
        jobs.push(async () => {
          try {
            await createOneTimeSchedule(
              this.#scheduler(),
              this.#config.scheduler as NonNullable<CelerityConfig['scheduler']>,
              {
                taskId: item.envelope.id,
                retries: item.envelope.retries,
                when: new Date(item.due),
                queueArn: item.target.arn,
                body: item.body,
              },
            );
            done(item, sentTask(item, 'scheduler'));
          } catch (error) {
            fail(item.index, item.envelope.id, error);
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
      for (const batch of chunkBySize(items, (item) => Buffer.byteLength(item.body), SQS_BATCH, limit)) {
        jobs.push(async () => {
          const unsent = await this.#sendBatch(batch);
          for (const item of batch) {
            const failure = unsent.get(item.index);
            if (failure === undefined) done(item, sentTask(item, 'sqs'));
            else fail(item.index, item.envelope.id, sendFailure(failure), failure.permanent);
          }
        });
      }
    }
    await mapLimit(jobs, this.#concurrency, (job) => job());
    return results;
  }

  /** Sends one batch, sending again the entries SQS reports as failed; returns what never went. */
  async #sendBatch(batch: readonly Prepared[]): Promise<Map<number, SendFailure>> {
    let pending = batch;
    const failures = new Map<number, SendFailure>();
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
        const failedIds = new Map((response.Failed ?? []).map((f) => [f.Id, f]));
        for (const item of pending) {
          const f = failedIds.get(String(item.index));
          if (f === undefined) failures.delete(item.index);
          // SQS's SenderFault: this entry is refused as it is (e.g. characters SQS does not take).
          else
            failures.set(item.index, {
              name: f.Code ?? 'SendMessageBatchFailure',
              reason: `${f.Code}: ${f.Message ?? ''}`,
              permanent: f.SenderFault === true,
            });
        }
        pending = pending.filter((item) => failures.get(item.index)?.permanent === false);
      } catch (error) {
        for (const item of pending)
          failures.set(item.index, {
            name: error instanceof Error ? error.name : 'Error',
            reason: (error as Error).message,
            permanent: false,
          });
        if (attempt === SEND_ATTEMPTS) break;
      }
    }
    return failures;
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

/** Why SQS did not take one entry: its error code (or the request's error) and message. */
interface SendFailure {
  name: string;
  reason: string;
  permanent: boolean;
}

function sendFailure(failure: SendFailure): Error {
  const error = new Error(failure.reason);
  error.name = failure.name;
  return error;
}
