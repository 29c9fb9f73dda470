import { type AwsClients, getAwsClients } from './aws/clients.ts';
import { type CelerityConfig, getConfig } from './config/config.ts';
import { ValidationError } from './errors.ts';
import { AsyncResult } from './producer/async-result.ts';
import { Producer } from './producer/producer.ts';
import { ResultStore } from './results/store.ts';
import { defaultRegistry, type TaskRegistry } from './task/registry.ts';

/**
 * The sending side of the app's wiring: what `task.delay()` and `AsyncResult` need, and nothing of
 * the worker or Beat, so a service that only sends tasks bundles only this (see `shared/app.ts`).
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
    // Built at the first far ETA only.
    scheduler: () => clients.scheduler,
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
