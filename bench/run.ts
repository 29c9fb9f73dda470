/**
 * `npm run bench`: the figures issue #2 asks for, printed one to a line so runs can be compared.
 * Everything runs against a real emulator (moto, or AWS_ENDPOINT_URL) and the stack's own template.
 */
import { PurgeQueueCommand } from '@aws-sdk/client-sqs';
import { type LocalCloud, startLocalCloud } from '../localstack/local-cloud.ts';
import '../functions/tasks/index.ts';
import { describeChaos } from '../localstack/dev/chaos.ts';
import { encodeEnvelope } from '../shared/envelope/index.ts';
import { callToEnvelope } from '../shared/producer/call.ts';
import { defineTask } from '../shared/task/define.ts';
import { measureAdminListing } from './admin.ts';
import { measureBeat } from './beat.ts';
import { describeBundles } from './bundle.ts';
import { measureCeleryIntake } from './celery.ts';
import { measureChaos } from './chaos.ts';
import { measureChord } from './chord.ts';
import { costPerMillion, meterClients, type PerTask, PRICE_SOURCES, PRICES } from './cost.ts';
import { measureDeepQueue } from './deep.ts';
import { measureScheduleDelay } from './schedule-delay.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 10);
const PER_ROUND = Number(process.env.BENCH_PER_ROUND ?? 200);
const BEAT_DEFINITIONS = Number(process.env.BENCH_BEAT_DEFINITIONS ?? 10_000);
const TASK = 'apps.demo.tasks.noop';

const cpuMicros = () => {
  const { user, system } = process.cpuUsage();
  return user + system;
};
const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { maximumFractionDigits: digits, minimumFractionDigits: digits });

function calls(count: number, task = TASK) {
  return Array.from({ length: count }, (_, i) => ({ task, args: [], kwargs: { i } }));
}

/** The no-op task again, with `ignoreResult`: the cost line's second figure. */
const IGNORED = 'bench.noop.ignore_result';
defineTask(IGNORED, () => null, { ignoreResult: true });

/** Enqueue alone, no workers: the producer's rate and CPU. The queue is purged between rounds to stay shallow. */
async function measureEnqueue(): Promise<{ rate: number; cpuPerTask: number; requestsPerTask: number }> {
  const cloud = await startLocalCloud({ workers: false, streams: false, clock: false, logLevel: 'silent' });
  try {
    const url = cloud.config.queues.default?.url as string;
    await cloud.producer.sendMany(calls(10)); // warm the connection and the queue's size cap
    await cloud.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    let wall = 0;
    let cpu = 0;
    let requests = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const batch = calls(PER_ROUND);
      const before = cloud.clients.requests.total;
      const cpu0 = cpuMicros();
      const t0 = performance.now();
      await cloud.producer.sendMany(batch);
      wall += performance.now() - t0;
      cpu += cpuMicros() - cpu0;
      requests += cloud.clients.requests.total - before;
      await cloud.clients.sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    }
    const tasks = ROUNDS * PER_ROUND;
    return { rate: tasks / (wall / 1000), cpuPerTask: cpu / tasks, requestsPerTask: requests / tasks };
  } finally {
    await cloud.stop();
  }
}

/** Enqueue and drain through the worker handler fed by the poller, with the stack's mapping settings. */
async function measureDrain(
  task = TASK,
  rounds = ROUNDS,
): Promise<{
  rate: number;
  cpuPerTask: number;
  requests: Record<string, number>;
  requestsTotal: number;
  tasks: number;
  batches: number;
  memoryMb: number;
  /** Billable units per task, for the cost line. */
  perTask: PerTask;
}> {
  let done = 0;
  let batches = 0;
  let billedMs = 0;
  let wake: (() => void) | undefined;
  const cloud: LocalCloud = await startLocalCloud({
    logLevel: 'silent',
    // The task path alone: the stream poller's reads and the local scheduler clock's listings
    // are the local cloud's own machinery, not requests a task costs on AWS.
    streams: false,
    clock: false,
    // Idle long polls as Lambda's (shorter, so the run ends promptly): they are counted too.
    overrides: { waitTimeSeconds: 5 },
    onBatch: (_worker, report) => {
      batches++;
      // Lambda bills each invocation's duration rounded up to the millisecond.
      billedMs += Math.max(1, Math.ceil(report.durationMs));
      done += report.messageIds.length - report.failed.length;
      wake?.();
    },
  });
  try {
    const meter = meterClients(cloud.clients);
    const tasks = rounds * PER_ROUND;
    cloud.clients.requests.reset();
    const cpu0 = cpuMicros();
    let wallDrain = 0;
    for (let round = 1; round <= rounds; round++) {
      const r0 = performance.now();
      await cloud.producer.sendMany(calls(PER_ROUND, task));
      while (done < round * PER_ROUND) await new Promise<void>((resolve) => (wake = resolve));
      wallDrain += performance.now() - r0;
    }
    const cpu = cpuMicros() - cpu0;
    const requests = cloud.clients.requests.snapshot();
    const requestsTotal = cloud.clients.requests.total;
    const memoryMb = cloud.workers[0]?.function.memoryMb ?? 128;
    const memoryGb = memoryMb / 1024;
    return {
      rate: tasks / (wallDrain / 1000),
      cpuPerTask: cpu / tasks,
      requests,
      requestsTotal,
      tasks,
      batches,
      memoryMb,
      perTask: {
        sqsChunks: meter.sqsChunks / tasks,
        invocations: batches / tasks,
        gbSeconds: ((billedMs / 1000) * memoryGb) / tasks,
        writeUnits: meter.writeUnits / tasks,
        readUnits: meter.readUnits / tasks,
      },
    };
  } finally {
    await cloud.stop();
  }
}

/** The producer's own share of its CPU: validating a call and building its message, without I/O. */
function measureMessageBuilding(count = 20_000): number {
  const batch = calls(count);
  const cpu0 = cpuMicros();
  for (const call of batch) encodeEnvelope(callToEnvelope(call, Date.now()));
  return (cpuMicros() - cpu0) / count;
}

/**
 * `BENCH_ONLY=deep` (or `drain,cost`, ...) runs those sections alone; without it, all of them.
 * Sections: bundle, enqueue, drain (with cost), beat, delay, chaos, deep, admin, chord, celery. `npm run bench -- bundles`
 * is `BENCH_ONLY=bundle`: seconds, no emulator.
 */
const only = new Set(
  (process.argv.includes('bundles') ? 'bundle' : (process.env.BENCH_ONLY ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean),
);
const wanted = (section: string) => only.size === 0 || only.has(section);

if (wanted('bundle')) console.log((await describeBundles()).join('\n'));
if (wanted('enqueue') || wanted('drain') || wanted('cost')) {
  const building = measureMessageBuilding();
  const enqueue = await measureEnqueue();
  console.log(
    `enqueue rate (batched, SendMessageBatch of 10): ${fmt(enqueue.rate)} tasks/s over ${fmt(ROUNDS * PER_ROUND)} tasks (${fmt(enqueue.requestsPerTask, 3)} requests/task)`,
  );
  console.log(
    `producer CPU per task (excluding waits): ${fmt(enqueue.cpuPerTask)} us (target near 100 us), of which ${fmt(building)} us validating and building the message and the rest the AWS SDK and HTTP`,
  );
  if (wanted('drain') || wanted('cost')) {
    const drain = await measureDrain();
    const workerCpu = drain.cpuPerTask - enqueue.cpuPerTask;
    const perTask = drain.requestsTotal / drain.tasks;
    const split = Object.entries(drain.requests)
      .map(([op, n]) => `${op} ${fmt(n / drain.tasks, 3)}`)
      .join(', ');
    console.log(
      `local cloud end to end (${fmt(drain.tasks)} no-op tasks, enqueue to SUCCESS, worker handler under the poller, ${fmt(drain.batches)} batches): ${fmt(drain.rate)} tasks/s`,
    );
    console.log(
      `AWS requests per task end to end: ${fmt(perTask, 3)} (target <= 0.40, floor about 0.34) = ${split}`,
    );
    console.log(`worker CPU per task (excluding waits): ${fmt(workerCpu)} us`);
    if (wanted('cost')) {
      const ignored = await measureDrain(IGNORED, Math.min(ROUNDS, 3));
      const describe = (t: PerTask) => {
        const c = costPerMillion(t);
        return `$${fmt(c.total, 2)} (SQS $${fmt(c.sqs, 2)} for ${fmt(t.sqsChunks, 3)} billed requests/task; Lambda $${fmt(c.lambda, 2)} for ${fmt(t.invocations, 3)} invocations and ${fmt(t.gbSeconds * 1000, 3)} GB-ms/task; DynamoDB $${fmt(c.dynamo, 2)} for ${fmt(t.writeUnits, 2)} WRU and ${fmt(t.readUnits, 2)} RRU/task)`;
      };
      console.log(
        `cost per million no-op tasks at AWS list prices: with results ${describe(drain.perTask)}; with ignoreResult ${describe(ignored.perTask)}; prices used (us-east-1, on-demand, no free tier): SQS $${PRICES.sqsPerMillion}/M requests (64 KiB chunks), Lambda $${PRICES.lambdaPerMillion}/M invocations + $${PRICES.lambdaPerGbSecond}/GB-s (x86; the worker's ${drain.memoryMb} MB and its invocations' durations measured here), DynamoDB $${PRICES.dynamoPerMillionWrites}/M WRU, $${PRICES.dynamoPerMillionReads}/M RRU (${PRICE_SOURCES.join(', ')})`,
      );
    }
  }
}
if (wanted('beat')) {
  const beat = await measureBeat(BEAT_DEFINITIONS);
  console.log(
    `beat sync of ${fmt(beat.definitions)} new periodic tasks (written 16 at a time, stream -> filter -> beat-sync handler -> Scheduler): ${fmt(beat.syncSeconds, 1)} s from first write to last schedule (${fmt(beat.definitions / beat.syncSeconds)} definitions/s; writing alone ${fmt(beat.writeSeconds, 1)} s), ${fmt(beat.schedulerCalls)} Scheduler calls (${fmt(beat.schedulerCalls / beat.definitions, 2)} per definition) in ${fmt(beat.syncInvocations)} invocations`,
  );
  console.log(
    `run-statistics updates: ${fmt(beat.statUpdates)} -> ${fmt(beat.statSchedulerCalls)} Scheduler calls (must be 0), ${fmt(beat.statInvocations)} sync invocations, ${fmt(beat.statFilteredOut)} stream records dropped by the mapping's filter`,
  );
}
if (wanted('delay')) {
  const delay = await measureScheduleDelay(Number(process.env.BENCH_SCHEDULED_RUNS ?? 20));
  console.log(
    `schedule due -> task start (${fmt(delay.runs)} clocked periodic tasks through stream, sync, scheduler clock, SQS, worker): median ${fmt(delay.startMedianMs)} ms, max ${fmt(delay.startMaxMs)} ms (due -> sent by the clock: median ${fmt(delay.fireMedianMs)} ms, max ${fmt(delay.fireMaxMs)} ms)`,
  );
}
if (wanted('chaos')) {
  const chaos = await measureChaos(Number(process.env.BENCH_CHAOS_TASKS ?? 10_000));
  console.log(
    `chaos through the local cloud (5 % of runs crash their invocation mid-task, 5 % of messages delivered twice): ${describeChaos(chaos)}`,
  );
}
if (wanted('deep')) {
  const deep = await measureDeepQueue(Number(process.env.BENCH_DEEP_TASKS ?? 10_000));
  console.log(
    `local cloud at depth (${fmt(deep.tasks)} no-op tasks enqueued first at ${fmt(deep.enqueueRate)} tasks/s, then the workers started; drained to the last stored result): ${fmt(deep.drainRate)} tasks/s (target >= 150; up to ${deep.peakConcurrency} invocations at once); the emulator with ${fmt(deep.tasks)} queued: receive + delete of 10 ${fmt(deep.receiveDeleteMs, 1)} ms, batch send of 10 ${fmt(deep.sendBatchMs, 1)} ms (medians)`,
  );
}
if (wanted('admin')) {
  const admin = await measureAdminListing(Number(process.env.BENCH_ADMIN_RESULTS ?? 20_000));
  for (const l of admin.listings) {
    console.log(
      `admin tasks list (GET /api/tasks, pages of 50, in process against the emulator, ${fmt(admin.results)} stored results), filter ${l.filter}: p50 ${fmt(l.p50Ms, 1)} ms, p95 ${fmt(l.p95Ms, 1)} ms over ${l.pages} pages; DynamoDB requests per page ${fmt(l.requestsPerPage, 2)} (at most ${l.maxRequestsPerPage})`,
    );
  }
  console.log(
    `(seeding ${fmt(admin.results)} results with their index keys took ${fmt(admin.seedSeconds, 1)} s)`,
  );
}

if (wanted('chord')) {
  const chord = await measureChord(Number(process.env.BENCH_CHORD_MEMBERS ?? 1_000));
  const split = Object.entries(chord.requests)
    .map(([op, n]) => `${op} ${fmt(n, 3)}`)
    .join(', ');
  console.log(
    `chord of ${fmt(chord.members)} no-op members through the local cloud: fan-out to callback ${fmt(chord.fanOutToCallbackMs / 1000, 2)} s (fan-out itself ${fmt(chord.fanOutMs / 1000, 2)} s); AWS requests per member ${fmt(chord.requestsPerMember, 3)} = ${split}`,
  );
}

if (wanted('celery')) {
  const celery = await measureCeleryIntake(
    Number(process.env.BENCH_CELERY_MESSAGES ?? 20_000),
    Number(process.env.BENCH_CELERY_TASKS ?? 1_000),
  );
  console.log(
    `Celery intake (decode + admit in the worker, in process, ${fmt(celery.messages)} no-op messages): Celery protocol 2 (kombu SQS body) ${fmt(celery.admitCelery)} messages/s beside Celerity's envelope ${fmt(celery.admitCelerity)} messages/s`,
  );
  if (celery.endToEnd)
    console.log(
      `Celery intake end to end (${fmt(celery.endToEnd.tasks)} no-op tasks sent raw with SendMessageBatch, drained to SUCCESS by the worker under the local poller): Celery messages ${fmt(celery.endToEnd.celery)} tasks/s beside Celerity's envelope ${fmt(celery.endToEnd.celerity)} tasks/s`,
    );
}

// Every figure is printed. The emulators are stopped, but a library may still hold the event loop
// (a keep-alive socket, a timer of a stopped local cloud): end once stdout has taken the last line,
// rather than leave `npm run bench` waiting for nothing.
process.stdout.write('', () => process.exit(process.exitCode ?? 0));
