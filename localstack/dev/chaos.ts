import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { GetQueueAttributesCommand, SetQueueAttributesCommand, type SQSClient } from '@aws-sdk/client-sqs';
import { callToEnvelope } from '../../shared/producer/call.ts';
import type { TaskContext } from '../../shared/task/context.ts';
import type { BatchReport } from '../event-sources/sqs-poller.ts';
import { crashInvocation, currentInvocation } from '../lambda/invocation-scope.ts';
import type { LocalCloud, LocalWorker } from '../local-cloud.ts';

/**
 * A chaos drill through the local cloud: many tasks, some of whose runs crash their invocation
 * mid-task (the container dies: `crashInvocation`, not a thrown error), some of whose messages are
 * delivered twice (the same body sent again, at once or a little later). Every run's side effect
 * is written in a ledger with the invocation it ran in, so that afterwards each one is accounted
 * for: one run per task in an invocation that finished (or a lone run in an invocation that timed
 * out after writing its outcome), and any other run inside an invocation that was abandoned
 * (at-least-once: what an abandoned invocation had not yet recorded runs again). Register
 * `drill.body` as a task, pass `drill.onBatch` to the local cloud, then `run()`.
 */
export interface ChaosOptions {
  tasks: number;
  /** Share of tasks whose first run crashes its invocation. @defaultValue 0.05 */
  crashRate?: number;
  /** Share of tasks whose message is sent twice. @defaultValue 0.05 */
  duplicateRate?: number;
  /** Tasks sent at a time: moto's receives slow down as a queue deepens. @defaultValue 200 */
  wave?: number;
  /** Seeds the choice of which tasks crash and which are duplicated. @defaultValue 1 */
  seed?: number;
  /** The drill gives up waiting after this long. @defaultValue 20 minutes */
  deadlineMs?: number;
  /**
   * The queue's `maxReceiveCount` for the drill, in place of the stack's. A crash returns every
   * message of its batch: at a 5 % crash rate a batch-mate can be caught in four crashes in a
   * row, and a message that already ran would reach the DLQ. @defaultValue the stack's
   */
  maxReceiveCount?: number;
}

export interface ChaosFigures {
  tasks: number;
  seconds: number;
  /** Tasks whose row reads SUCCESS at the end. */
  succeeded: number;
  /** Crashes the bodies caused, by whether the side effect had happened first. */
  crashes: { beforeSideEffect: number; afterSideEffect: number };
  /** Invocations the poller reported as crashed, and as timed out. */
  crashedInvocations: number;
  timedOutInvocations: number;
  invocations: number;
  /** Messages sent a second time with the same body. */
  duplicates: number;
  /**
   * Side effects beyond one per task (`total`), and the runs in abandoned invocations, by whose:
   * the crashed body's own, or a batch-mate's. With one finished run per task the two agree.
   */
  reRuns: { total: number; crashedBodies: number; batchMates: number };
  /** The highest `ApproximateReceiveCount` a body saw. */
  maxDeliveryCount: number;
  /** Everything that breaks the contract; empty when the drill passed. */
  problems: string[];
}

interface Plan {
  crash?: 'before' | 'after';
  duplicate?: { delaySeconds: number };
}

/** A small seeded generator (mulberry32), so a failing drill (or test) can be run again as it was. */
export function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class ChaosDrill {
  readonly #o: Required<Omit<ChaosOptions, 'maxReceiveCount'>> & Pick<ChaosOptions, 'maxReceiveCount'>;
  readonly #plans = new Map<string, Plan>();
  /** Task id → the invocations its body ran its side effect in. */
  readonly #effects = new Map<string, string[]>();
  /** Task id → where its body crashed its invocation, and in which invocation. */
  readonly #crashed = new Map<string, { when: 'before' | 'after'; requestId: string }>();
  readonly #abandoned = new Map<string, BatchReport['outcome']>();
  #invocations = 0;
  #maxDelivery = 0;

  constructor(options: ChaosOptions) {
    this.#o = {
      crashRate: 0.05,
      duplicateRate: 0.05,
      wave: 200,
      seed: 1,
      deadlineMs: 20 * 60_000,
      ...options,
    };
    const random = seeded(this.#o.seed);
    for (let i = 0; i < this.#o.tasks; i++) {
      const plan: Plan = {};
      if (random() < this.#o.crashRate) plan.crash = random() < 0.5 ? 'before' : 'after';
      // Sent again at once (often the same batch), or 1–3 s later (in flight, or already done).
      if (random() < this.#o.duplicateRate) plan.duplicate = { delaySeconds: Math.floor(random() * 4) };
      this.#plans.set(randomUUID(), plan);
    }
  }

  /** The task body: a side effect, written in the ledger; for some tasks, a crash on the first run. */
  readonly body = async (ctx: TaskContext): Promise<string> => {
    const id = ctx.request.id;
    this.#maxDelivery = Math.max(this.#maxDelivery, ctx.request.deliveryCount);
    // Bodies of a batch run concurrently: let them interleave, so a crash lands mid-batch.
    await sleep(Math.floor(Math.random() * 20));
    const invocation = currentInvocation();
    // A dead container runs nothing more: a body reaching here after its invocation was
    // abandoned stops, as it would on Lambda (where it would never have got this far).
    if (invocation && !invocation.alive) return new Promise<never>(() => undefined);
    const plan = this.#plans.get(id);
    const crash = plan?.crash && !this.#crashed.has(id) ? plan.crash : undefined;
    const requestId = invocation?.requestId ?? 'none';
    if (crash) this.#crashed.set(id, { when: crash, requestId });
    if (crash !== 'before') this.#effects.set(id, [...(this.#effects.get(id) ?? []), requestId]);
    if (crash) return crashInvocation(`chaos: task ${id} crashed ${crash} its side effect`);
    return 'done';
  };

  /** For the local cloud's `onBatch`: which invocations were abandoned. */
  readonly onBatch = (_worker: LocalWorker, report: BatchReport): void => {
    this.#invocations++;
    if (report.outcome === 'crash' || report.outcome === 'timeout') {
      this.#abandoned.set(report.requestId, report.outcome);
    }
  };

  /** Sends every task (and the duplicates) of the drill as `task`, waits for the end, accounts for it all. */
  async run(cloud: LocalCloud, task: string): Promise<ChaosFigures> {
    const started = Date.now();
    const deadline = started + this.#o.deadlineMs;
    const ids = [...this.#plans.keys()];
    const worker = cloud.workers.find((w) => w.queue.route === cloud.config.defaultQueue);
    if (!worker) throw new Error(`the local cloud runs no worker for ${cloud.config.defaultQueue}`);
    if (this.#o.maxReceiveCount !== undefined) await allowReceives(cloud, worker, this.#o.maxReceiveCount);
    for (let start = 0; start < ids.length; start += this.#o.wave) {
      const wave = ids.slice(start, start + this.#o.wave);
      const now = Date.now();
      const items = wave.flatMap((id, index) => {
        const envelope = callToEnvelope({ task, kwargs: { i: start + index }, taskId: id }, now);
        const duplicate = this.#plans.get(id)?.duplicate;
        return duplicate
          ? [{ envelope }, { envelope, delaySeconds: duplicate.delaySeconds }]
          : [{ envelope }];
      });
      await cloud.producer.sendEnvelopes(items);
      const sent = start + wave.length;
      while (this.#effects.size < sent - this.#o.wave / 2 && Date.now() < deadline) await sleep(100);
    }
    const pending = new Set(ids);
    while (pending.size > 0 && Date.now() < deadline) {
      await this.#settled(cloud, pending);
      if (pending.size > 0) await sleep(500);
    }
    const queues = [worker.queue.url, worker.queue.dlq?.url].filter((u): u is string => u !== undefined);
    // Copies returned while their task was in flight come back once more, to be dropped as finished.
    while (queues[0] && (await queueDepth(cloud.clients.sqs, queues[0])) > 0 && Date.now() < deadline)
      await sleep(500);
    return this.#figures(cloud, ids, pending, queues, started);
  }

  /** Removes from `pending` the tasks whose row reads SUCCESS. */
  async #settled(cloud: LocalCloud, pending: Set<string>): Promise<void> {
    const ids = [...pending];
    for (let start = 0; start < ids.length; start += 100) {
      const chunk = ids.slice(start, start + 100);
      const rows = await Promise.all(chunk.map((id) => cloud.store.get(id)));
      rows.forEach((row, index) => {
        if (row?.status === 'SUCCESS') pending.delete(chunk[index] as string);
      });
    }
  }

  async #figures(
    cloud: LocalCloud,
    ids: string[],
    pending: Set<string>,
    queues: string[],
    started: number,
  ): Promise<ChaosFigures> {
    const problems: string[] = [];
    if (pending.size > 0) problems.push(`${pending.size} tasks never read SUCCESS, e.g. ${[...pending][0]}`);
    // Every run in an abandoned invocation is a re-run to come: the crashed body's own (when it
    // crashed after its side effect), or a batch-mate's that had finished before the crash.
    const reRuns = { total: 0, crashedBodies: 0, batchMates: 0 };
    for (const id of ids) {
      const runs = this.#effects.get(id) ?? [];
      const finished = runs.filter((requestId) => !this.#abandoned.has(requestId));
      // An invocation declared timed out after its handler had written its outcome (the answer
      // came late: the event loop was held past the deadline) leaves a finished task whose copies
      // are dropped as finished: its last run is in that invocation, and none runs after it.
      const landedInTimeout = finished.length === 0 && this.#abandoned.get(runs.at(-1) ?? '') === 'timeout';
      if (finished.length !== 1 && !landedInTimeout) {
        const where = runs.map((r) => this.#abandoned.get(r) ?? 'finished').join(', ');
        problems.push(
          `task ${id} ran its side effect ${finished.length} times in invocations that finished (runs: ${where || 'none'})`,
        );
      }
      reRuns.total += runs.length - 1;
      for (const requestId of runs.filter((r) => this.#abandoned.has(r))) {
        if (this.#crashed.get(id)?.requestId === requestId) reRuns.crashedBodies++;
        else reRuns.batchMates++;
      }
    }
    const crashes = [...this.#crashed.values()].map((c) => c.when);
    const crashedInvocations = [...this.#abandoned.values()].filter((o) => o === 'crash').length;
    if (crashedInvocations !== crashes.length) {
      problems.push(`${crashes.length} crashes, but ${crashedInvocations} invocations reported crashed`);
    }
    for (const url of queues) {
      const left = await queueDepth(cloud.clients.sqs, url);
      if (left > 0) problems.push(`${left} messages left on ${url}`);
    }
    const after = crashes.filter((c) => c === 'after').length;
    return {
      tasks: ids.length,
      seconds: (Date.now() - started) / 1000,
      succeeded: ids.length - pending.size,
      crashes: { beforeSideEffect: crashes.length - after, afterSideEffect: after },
      crashedInvocations,
      timedOutInvocations: this.#abandoned.size - crashedInvocations,
      invocations: this.#invocations,
      duplicates: [...this.#plans.values()].filter((p) => p.duplicate).length,
      reRuns,
      maxDeliveryCount: this.#maxDelivery,
      problems,
    };
  }
}

async function allowReceives(cloud: LocalCloud, worker: LocalWorker, maxReceiveCount: number): Promise<void> {
  const { Attributes = {} } = await cloud.clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: worker.queue.url, AttributeNames: ['RedrivePolicy'] }),
  );
  if (!Attributes.RedrivePolicy) return;
  const policy = { ...JSON.parse(Attributes.RedrivePolicy), maxReceiveCount };
  await cloud.clients.sqs.send(
    new SetQueueAttributesCommand({
      QueueUrl: worker.queue.url,
      Attributes: { RedrivePolicy: JSON.stringify(policy) },
    }),
  );
}

/** Messages on a queue, visible or in flight. */
export async function queueDepth(sqs: SQSClient, url: string): Promise<number> {
  const { Attributes = {} } = await sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: ['ApproximateNumberOfMessages', 'ApproximateNumberOfMessagesNotVisible'],
    }),
  );
  return (
    Number(Attributes.ApproximateNumberOfMessages) + Number(Attributes.ApproximateNumberOfMessagesNotVisible)
  );
}

/** The figures in one line, for the test's output and the benchmark's. */
export function describeChaos(f: ChaosFigures): string {
  return (
    `${f.tasks.toLocaleString('en-US')} tasks in ${f.seconds.toFixed(1)} s: ${f.succeeded} SUCCESS; ` +
    `${f.crashes.beforeSideEffect + f.crashes.afterSideEffect} crashed runs (${f.crashes.afterSideEffect} after their side effect) ` +
    `= ${f.crashedInvocations} abandoned invocations of ${f.invocations}, ${f.timedOutInvocations} timed out; ` +
    `${f.duplicates} duplicated deliveries; re-runs ${f.reRuns.total} = ${f.reRuns.crashedBodies} crashed after the side effect + ` +
    `${f.reRuns.batchMates} batch-mates of a crash that had finished their body; highest delivery count ${f.maxDeliveryCount}; ` +
    `${f.problems.length === 0 ? 'no problems' : `${f.problems.length} problems: ${f.problems.slice(0, 3).join('; ')}`}`
  );
}
