import '../functions/tasks/index.ts';
import {
  type AwsClients,
  createAwsClients,
  getAwsClients,
  type RequestCounter,
  resetAwsClients,
} from '../shared/aws/index.ts';
import { type CelerityConfig, ConfigEnv, configure, functionConfig } from '../shared/config/index.ts';
import { createLogger, setLogWriter } from '../shared/log.ts';
import { Producer } from '../shared/producer/producer.ts';
import { ResultStore } from '../shared/results/store.ts';
import { defaultRegistry } from '../shared/task/registry.ts';
import { createLogSink, type LogSink, type LogStream } from './dev/log-sink.ts';
import { type Emulator, startEmulator } from './emulator/emulator.ts';
import type { InflightJournal } from './event-sources/inflight-journal.ts';
import type { BatchReport, PollerStats, SqsHandler, SqsPoller } from './event-sources/sqs-poller.ts';
import type { StreamBatchReport, StreamPoller } from './event-sources/stream-poller.ts';
import { fenceAbandonedInvocations, silentWhenAbandoned } from './lambda/invocation-scope.ts';
import { applyEnv } from './lambda/load-entry.ts';
import { sqsWorker } from './lambda/local-sqs-worker.ts';
import { streamWorker } from './lambda/local-stream-worker.ts';
import {
  type LocalEventSourceMapping,
  type LocalFunction,
  type LocalQueue,
  type LocalResources,
  type LocalTable,
  provision,
} from './provision/provision.ts';
import { type ClockFire, SchedulerClock, type SchedulerClockOptions } from './scheduler/scheduler-clock.ts';

export const DEFAULT_STACK_NAME = 'CelerityLocal';
const WORKER_ENTRY = 'functions/worker.ts';

export interface LocalCloudOptions {
  /** A template to provision instead of the CDK stack's (tests with a fixture). */
  template?: unknown;
  /** @defaultValue `CelerityLocal` */
  stackName?: string;
  /** An emulator already running; else `AWS_ENDPOINT_URL`, else moto started here. */
  endpoint?: string;
  /** An emulator to run on and to stop with the local cloud (an orphan `npm run dev` adopts). */
  emulator?: Emulator;
  /** @defaultValue `AWS_REGION`, else `us-east-1` */
  region?: string;
  /** Start a poller per event source mapping. @defaultValue true */
  workers?: boolean;
  /**
   * Start a poller per DynamoDB stream mapping (the Beat sync), importing its function in-process.
   * @defaultValue the value of `workers`
   */
  streams?: boolean;
  /**
   * Point this process at the local cloud: AWS_* and CELERITY_* variables, the shared clients and
   * `getConfig()`, so `task.delay()` works as in the app. Undone by `stop()`. @defaultValue true
   */
  applyToProcess?: boolean;
  /** Replaces each function's LOG_LEVEL. */
  logLevel?: string;
  /** Explicit departures from the template's settings, for fast tests and benchmarks. */
  overrides?: {
    /** Per receive, in place of the queue's (the stack's is six times the function timeout). */
    visibilityTimeoutSeconds?: number;
    maximumBatchingWindowSeconds?: number;
    maxConcurrency?: number;
    /** Idle long-poll wait; also the longest `stop()` waits for a receive. @defaultValue 2 */
    waitTimeSeconds?: number;
    /**
     * Every worker function's timeout, in place of the template's: when an invocation is given up,
     * and so when a run's lease ends. Keep it below the visibility timeout, as the stack does.
     */
    functionTimeoutSeconds?: number;
    /** Every SQS mapping's `BatchSize` (over 10 only with a batching window). */
    batchSize?: number;
  };
  /**
   * Wraps each worker function's handler (fault tests: a function that throws, or answers
   * oddly). The wrapper is called once per worker, when it starts.
   */
  wrapHandler?: (handler: SqsHandler, worker: { function: LocalFunction; queue: LocalQueue }) => SqsHandler;
  onBatch?: (worker: LocalWorker, report: BatchReport) => void;
  onStreamBatch?: (worker: LocalStreamWorker, report: StreamBatchReport) => void;
  /**
   * Run the scheduler clock: fire the EventBridge Scheduler schedules (which the emulator only
   * stores) into their queues. @defaultValue the value of `workers`
   */
  clock?: boolean;
  /** Settings of the clock (refresh interval, retry delays) beyond the local cloud's own. */
  clockOptions?: Pick<
    SchedulerClockOptions,
    'refreshIntervalMs' | 'retryBaseDelayMs' | 'retryMaxDelayMs' | 'groups'
  >;
  onFire?: (fire: ClockFire) => void;
  /**
   * Where to append the JSON log files `worker.log` and `beat.log` that `celerity logs` reads
   * (`npm run dev` passes `.celerity/logs`). The terminal shows what it showed without them.
   * @defaultValue no files
   */
  logDir?: string;
  /**
   * Told of every receipt handle the pollers hold and let go (`npm run dev` keeps them in a file,
   * so the next run returns at once what a crashed one held). @defaultValue none
   */
  inflight?: InflightJournal;
}

/** One event source mapping running locally: its queue, its function, and the poller feeding it. */
export interface LocalWorker {
  mapping: LocalEventSourceMapping;
  function: LocalFunction;
  queue: LocalQueue;
  poller: SqsPoller;
}

/** One DynamoDB stream mapping running locally: its table, its function, and the poller feeding it. */
export interface LocalStreamWorker {
  mapping: LocalEventSourceMapping;
  function: LocalFunction;
  table: LocalTable;
  poller: StreamPoller;
  /** Requests the function's own clients sent (its Scheduler calls, for instance). */
  requests: RequestCounter;
}

export interface LocalCloud {
  emulator: Emulator;
  endpoint: string;
  region: string;
  resources: LocalResources;
  clients: AwsClients;
  /** The app's configuration, with the resource locations a worker function is given. */
  config: CelerityConfig;
  producer: Producer;
  store: ResultStore;
  workers: LocalWorker[];
  /** The stream mappings running locally (the Beat sync function fed by the periodic-tasks table). */
  streamWorkers: LocalStreamWorker[];
  /** Fires the stored schedules; undefined when `clock` is false. */
  clock: SchedulerClock | undefined;
  /** The log files, when `logDir` was given. */
  logs: LogSink | undefined;
  /** Mappings not run locally, and why (a source that is neither a queue nor a stream here, ...). */
  notRun: { mapping: string; reason: string }[];
  stats(): Record<string, PollerStats>;
  /** Pollers first (running batches finish), then the emulator if this started it. Idempotent. */
  stop(): Promise<void>;
}

/** The CDK stack's template; loaded lazily so a run with a fixture never loads the CDK. */
async function stackTemplate(stackName: string): Promise<unknown> {
  const { synthTemplate } = await import('../infra/synth.ts');
  return synthTemplate({ bundling: false, stackName });
}

export async function startLocalCloud(options: LocalCloudOptions = {}): Promise<LocalCloud> {
  const stackName = options.stackName ?? DEFAULT_STACK_NAME;
  const region = options.region ?? process.env.AWS_REGION ?? 'us-east-1';
  const template = options.template ?? (await stackTemplate(stackName));
  const emulator =
    options.emulator ?? (await startEmulator(options.endpoint ? { endpoint: options.endpoint } : {}));
  const workers: LocalWorker[] = [];
  const streamWorkers: LocalStreamWorker[] = [];
  const logs = options.logDir ? createLogSink(options.logDir) : undefined;
  // The functions loaded here make their loggers at import, writing through the process's writer:
  // an abandoned invocation's lines are dropped, and with log files each function's lines go to
  // its stream's file (worker.log, beat.log) from info up, as its log group would hold them, and
  // to the terminal from `logLevel` up.
  const functionLines = logs?.functionLines({ terminalLevel: options.logLevel });
  setLogWriter(
    silentWhenAbandoned((line) => {
      if (functionLines) functionLines(line);
      else process.stdout.write(`${line}\n`);
    }),
  );
  let clock: SchedulerClock | undefined;
  let restoreEnv: Record<string, string | undefined> = {};
  const applied = options.applyToProcess !== false;
  const teardown = async () => {
    // The clock first, so nothing new is sent to queues whose pollers are stopping.
    await clock?.stop();
    // Pollers together (each lets its running batches finish), then the emulator they talk to.
    await Promise.all([...workers, ...streamWorkers].map((w) => w.poller.stop()));
    await emulator.stop();
    setLogWriter(undefined);
    await logs?.close();
    applyEnv(restoreEnv);
    if (applied) {
      resetAwsClients();
      configure({});
    }
  };
  try {
    // moto takes any key; the SDK only needs some to sign with.
    restoreEnv = applyEnv({
      AWS_ACCESS_KEY_ID: process.env.AWS_ACCESS_KEY_ID ?? 'local',
      AWS_SECRET_ACCESS_KEY: process.env.AWS_SECRET_ACCESS_KEY ?? 'local',
    });
    const clients = createAwsClients({ endpoint: emulator.endpoint, region });
    // The workers' runtimes send through these: an invocation given up must not record anything.
    fenceAbandonedInvocations(clients.sqs, clients.dynamo, clients.scheduler);
    const resources = await provision(template, { clients, stackName, region });
    const workerFunctions = Object.values(resources.functions).filter((f) => f.entry === WORKER_ENTRY);
    const primary = workerFunctions.find((f) => f.environment[ConfigEnv.queues]);
    if (!primary) throw new Error(`the template has no ${WORKER_ENTRY} function with ${ConfigEnv.queues}`);
    const config = functionConfig(primary.environment);
    if (!config.resultsTable) throw new Error(`the template gives its workers no ${ConfigEnv.resultsTable}`);
    const producer = new Producer({
      config,
      sqs: clients.sqs,
      scheduler: clients.scheduler,
      registry: defaultRegistry,
    });
    const store = new ResultStore({ dynamo: clients.dynamo, table: config.resultsTable });

    if (applied) {
      // The worker's whole environment (Celerity's locations and the app's own, such as
      // LabControl's tables), so tasks run in this process find what they would on Lambda.
      const { LOG_LEVEL: _level, ...functionEnv } = primary.environment;
      const previous = applyEnv({ ...functionEnv, AWS_ENDPOINT_URL: emulator.endpoint, AWS_REGION: region });
      restoreEnv = { ...previous, ...restoreEnv };
      resetAwsClients();
      // Re-reads the environment while keeping the app's configure() calls.
      configure({});
    }

    const notRun: LocalCloud['notRun'] = [];
    const { eventSourceMappings: mappings } = resources;
    const runStreams = (options.streams ?? options.workers) !== false;
    // Every function is imported before any poller runs: an import sets the process environment
    // (and the configuration getConfig() answers) to the function's for its duration.
    for (const mapping of runStreams ? mappings.filter((m) => m.tableLogicalId) : []) {
      const fn = resources.functions[mapping.functionLogicalId] as LocalFunction;
      const table = resources.tables[mapping.tableLogicalId as string] as LocalTable;
      if (!mapping.enabled) notRun.push({ mapping: mapping.logicalId, reason: 'it is disabled' });
      else {
        const context = { clients, region, resources, options, logs };
        streamWorkers.push(await streamWorker(mapping, fn, table, context, emulator.endpoint));
      }
    }
    for (const mapping of options.workers === false ? [] : mappings.filter((m) => !m.tableLogicalId)) {
      const fn = resources.functions[mapping.functionLogicalId] as LocalFunction;
      const queue = mapping.queueLogicalId ? resources.queues[mapping.queueLogicalId] : undefined;
      const reason = !queue
        ? `its source ${mapping.eventSourceArn} is not a queue or a table's stream`
        : fn.entry !== WORKER_ENTRY
          ? `its function's entry is ${fn.entry ?? 'unknown'}`
          : !mapping.enabled
            ? 'it is disabled'
            : undefined;
      if (reason || !queue) notRun.push({ mapping: mapping.logicalId, reason: reason ?? '' });
      else {
        const context = { clients, endpoint: emulator.endpoint, region, options, logs };
        workers.push(await sqsWorker(mapping, fn, queue, context));
      }
    }
    for (const worker of [...streamWorkers, ...workers]) worker.poller.start();
    // With LATEST, a write is seen only once the poller holds an iterator.
    await Promise.all(streamWorkers.map((w) => w.poller.ready()));
    if (applied) {
      // The clients task bodies get from getAwsClients() (LabControl's tables, SES) are fenced too.
      const shared = getAwsClients();
      fenceAbandonedInvocations(shared.sqs, shared.dynamo, shared.scheduler, shared.ses);
    }
    if ((options.clock ?? options.workers) !== false) clock = startClock(clients, resources, options, logs);

    let stopping: Promise<void> | undefined;
    return {
      emulator,
      endpoint: emulator.endpoint,
      region,
      resources,
      clients,
      config,
      producer,
      store,
      workers,
      streamWorkers,
      clock,
      logs,
      notRun,
      stats: () =>
        Object.fromEntries(workers.map((w) => [w.queue.route ?? w.queue.logicalId, w.poller.stats])),
      stop() {
        stopping ??= teardown();
        return stopping;
      },
    };
  } catch (error) {
    await teardown().catch(() => undefined);
    throw error;
  }
}

/** The scheduler clock, delivering to the provisioned queues by ARN (GetQueueUrl for any other). */
function startClock(
  clients: AwsClients,
  resources: LocalResources,
  options: LocalCloudOptions,
  logs: LogSink | undefined,
): SchedulerClock {
  const byArn = new Map<string, string>();
  for (const q of Object.values(resources.queues)) byArn.set(q.arn, q.url);
  const base = { component: 'scheduler-clock' };
  const stream: LogStream = 'beat';
  return new SchedulerClock({
    scheduler: clients.scheduler,
    sqs: clients.sqs,
    resolveQueueUrl: (arn) => byArn.get(arn),
    ...options.clockOptions,
    ...(options.onFire ? { onFire: options.onFire } : {}),
    logger: logs
      ? logs.logger(stream, base, { terminalLevel: options.logLevel })
      : createLogger(base, { level: options.logLevel }),
  }).start();
}
