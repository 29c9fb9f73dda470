import { periodicBeat } from './app-beat.ts';
import { createProducer, createResultStore, type Wiring } from './app-producer.ts';
import { type AwsClients, getAwsClients } from './aws/clients.ts';
import { FollowUps } from './canvas/follow-ups.ts';
import { followUpSteps } from './canvas/steps.ts';
import { CeleryResultWriter } from './celery/result-backend.ts';
import { type CelerityConfig, getConfig } from './config/config.ts';
import { createLogger, type Logger } from './log.ts';
import { defaultRegistry, type TaskRegistry } from './task/registry.ts';
import type { MetricsSink } from './worker/metrics.ts';
import { PeriodicBookkeeper } from './worker/periodic.ts';
import { RateLimiter } from './worker/rate-limit.ts';
import { WorkerRuntime } from './worker/runtime.ts';

export type { WorkerRuntime };

/**
 * The worker's side of the app's wiring (`celerity/worker`). Beat's table and target are made at the first periodic
 * run, and the Scheduler client at the first solar re-arm: a worker of plain tasks builds neither.
 */
function createBookkeeper(
  config: CelerityConfig,
  clients: AwsClients,
  registry: TaskRegistry,
  logger: Logger,
): PeriodicBookkeeper {
  if (!config.beat || !config.scheduler) return new PeriodicBookkeeper({ logger });
  return new PeriodicBookkeeper({ beat: async () => periodicBeat(config, { clients, registry }), logger });
}

export function createWorkerRuntime(
  wiring: Wiring & { logger?: Logger; metrics?: MetricsSink } = {},
): WorkerRuntime {
  const config = wiring.config ?? getConfig();
  const clients = wiring.clients ?? getAwsClients();
  const logger = wiring.logger ?? createLogger({ component: 'worker' });
  const store = createResultStore({ config, clients });
  const producer = createProducer({
    config,
    clients,
    ...(wiring.registry ? { registry: wiring.registry } : {}),
  });
  const celeryResults = config.celeryResultsTable
    ? new CeleryResultWriter({ dynamo: clients.dynamo, table: config.celeryResultsTable })
    : undefined;
  return new WorkerRuntime({
    periodic: createBookkeeper(config, clients, wiring.registry ?? defaultRegistry, logger),
    config,
    registry: wiring.registry ?? defaultRegistry,
    store,
    sqs: clients.sqs,
    producer,
    followUps: new FollowUps(
      { producer, store, config, log: logger, ...(celeryResults ? { celery: celeryResults } : {}) },
      followUpSteps,
    ),
    ...(celeryResults ? { celeryResults } : {}),
    ...(config.rateLimitTable
      ? { rateLimiter: new RateLimiter({ dynamo: clients.dynamo, table: config.rateLimitTable }) }
      : {}),
    logger,
    ...(wiring.metrics ? { metrics: wiring.metrics } : {}),
  });
}
