import { type AwsClients, getAwsClients } from './aws/clients.ts';
import { PeriodicTaskStore } from './beat/store.ts';
import { BeatSync } from './beat/sync.ts';
import { beatTarget } from './beat/target.ts';
import { type CelerityConfig, getConfig } from './config/config.ts';
import { ValidationError } from './errors.ts';
import { createLogger, type Logger } from './log.ts';
import { AsyncResult } from './producer/async-result.ts';
import { Producer } from './producer/producer.ts';
import { ResultStore } from './results/store.ts';
import { defaultRegistry, type TaskRegistry } from './task/registry.ts';
import { PeriodicBookkeeper } from './worker/periodic.ts';
import { RateLimiter } from './worker/rate-limit.ts';
import { WorkerRuntime } from './worker/runtime.ts';

/**
 * The wiring of the process-wide defaults: configuration, clients and registry become a producer,
 * a result store and a worker. Everything here can also be built by hand with other parts.
 */
export interface Wiring {
  config?: CelerityConfig;
  clients?: AwsClients;
  registry?: TaskRegistry;
}

export function createProducer(wiring: Wiring = {}): Producer {
  const clients = wiring.clients ?? getAwsClients();
  return new Producer({
    config: wiring.config ?? getConfig(),
    sqs: clients.sqs,
    scheduler: clients.scheduler,
    registry: wiring.registry ?? defaultRegistry,
  });
}

export function createResultStore(wiring: Wiring = {}): ResultStore {
  const config = wiring.config ?? getConfig();
  if (!config.resultsTable) {
    throw ValidationError.of(
      'config.resultsTable',
      'is not set (CELERITY_RESULTS_TABLE, or configure({ resultsTable }))',
    );
  }
  return new ResultStore({ dynamo: (wiring.clients ?? getAwsClients()).dynamo, table: config.resultsTable });
}

/**
 * The periodic-tasks table. Writes refuse tasks the registry does not know, as Django admin offers
 * only registered tasks; pass `registry: false` to accept any well-formed name (a CLI that does
 * not load the app's tasks).
 */
export function createPeriodicTaskStore(
  wiring: Omit<Wiring, 'registry'> & { registry?: TaskRegistry | false } = {},
): PeriodicTaskStore {
  const config = wiring.config ?? getConfig();
  if (!config.beat) {
    throw ValidationError.of(
      'config.beat',
      'is not set (CELERITY_PERIODIC_TASKS_TABLE and CELERITY_PERIODIC_SCHEDULE_GROUP, or configure({ beat }))',
    );
  }
  const registry = wiring.registry === undefined ? defaultRegistry : wiring.registry;
  return new PeriodicTaskStore({
    dynamo: (wiring.clients ?? getAwsClients()).dynamo,
    table: config.beat.table,
    defaultTimezone: config.timezone,
    ...(registry ? { knownTask: (name: string) => registry.has(name) } : {}),
  });
}

/** The beat-sync function's work: stream records and reconcile, against the periodic group. */
export function createBeatSync(wiring: Wiring & { logger?: Logger } = {}): BeatSync {
  const config = wiring.config ?? getConfig();
  const clients = wiring.clients ?? getAwsClients();
  const registry = wiring.registry ?? defaultRegistry;
  return new BeatSync({
    scheduler: clients.scheduler,
    store: createPeriodicTaskStore({ config, clients, registry: false }),
    target: beatTarget(config, registry),
    ...(wiring.logger ? { logger: wiring.logger } : {}),
  });
}

function createBookkeeper(
  config: CelerityConfig,
  clients: AwsClients,
  registry: TaskRegistry,
  logger: Logger,
): PeriodicBookkeeper {
  if (!config.beat || !config.scheduler) return new PeriodicBookkeeper({ logger });
  return new PeriodicBookkeeper({
    store: createPeriodicTaskStore({ config, clients, registry: false }),
    scheduler: clients.scheduler,
    target: beatTarget(config, registry),
    logger,
  });
}

export function createWorkerRuntime(wiring: Wiring & { logger?: Logger } = {}): WorkerRuntime {
  const config = wiring.config ?? getConfig();
  const clients = wiring.clients ?? getAwsClients();
  const logger = wiring.logger ?? createLogger({ component: 'worker' });
  return new WorkerRuntime({
    periodic: createBookkeeper(config, clients, wiring.registry ?? defaultRegistry, logger),
    config,
    registry: wiring.registry ?? defaultRegistry,
    store: createResultStore({ config, clients }),
    sqs: clients.sqs,
    producer: createProducer({ config, clients, ...(wiring.registry ? { registry: wiring.registry } : {}) }),
    ...(config.rateLimitTable
      ? { rateLimiter: new RateLimiter({ dynamo: clients.dynamo, table: config.rateLimitTable }) }
      : {}),
    logger,
  });
}

let cached: { config: CelerityConfig; producer: Producer; store?: ResultStore } | undefined;

function defaults(): { config: CelerityConfig; producer: Producer; store?: ResultStore } {
  const config = getConfig();
  if (cached?.config !== config) cached = { config, producer: createProducer({ config }) };
  return cached;
}

export function getProducer(): Producer {
  return defaults().producer;
}

export function getResultStore(): ResultStore {
  const current = defaults();
  current.store ??= createResultStore({ config: current.config });
  return current.store;
}

/** Revokes a task by id (Celery's `app.control.revoke`). */
export async function revoke(taskId: string): Promise<void> {
  const config = getConfig();
  await getResultStore().revoke(taskId, { expiresAt: Math.floor(Date.now() / 1000) + config.resultExpires });
}

/** A handle on any task's result by id (Celery's `AsyncResult(id)`). */
export function asyncResult<R = unknown>(taskId: string): AsyncResult<R> {
  return new AsyncResult<R>(taskId, { store: getResultStore(), revoke });
}
