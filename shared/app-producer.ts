import { type AwsClients, getAwsClients } from './aws/clients.ts';
import { type CelerityConfig, getConfig } from './config/config.ts';
import { ValidationError } from './errors.ts';
import { AsyncResult } from './producer/async-result.ts';
import { Producer } from './producer/producer.ts';
import { revokeTask } from './results/revoke.ts';
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

interface Defaults {
  config: CelerityConfig;
  /** One producer per registry its tasks are found in (`defineTask`'s `registry` option). */
  producers: Map<TaskRegistry, Producer>;
  store?: ResultStore;
}

let cached: Defaults | undefined;

function defaults(): Defaults {
  const config = getConfig();
  if (cached?.config !== config) cached = { config, producers: new Map() };
  return cached;
}

/** The process-wide producer, of the configuration and the registry its tasks are in. */
export function getProducer(registry: TaskRegistry = defaultRegistry): Producer {
  const current = defaults();
  let producer = current.producers.get(registry);
  if (!producer) {
    producer = createProducer({ config: current.config, registry });
    current.producers.set(registry, producer);
  }
  return producer;
}

export function getResultStore(): ResultStore {
  const current = defaults();
  current.store ??= createResultStore({ config: current.config });
  return current.store;
}

/**
 * Revokes a task by id (Celery's `app.control.revoke`), as the CLI and the admin API do: its
 * REVOKED row outlives the latest eta it is scheduled for, and its one-time schedules are deleted.
 * A task that already finished is left as it is, as in Celery.
 */
export async function revoke(taskId: string): Promise<void> {
  const current = defaults();
  await revokeTask(
    {
      store: getResultStore(),
      scheduler: () => getAwsClients().scheduler,
      group: current.config.scheduler?.groupName,
      resultExpires: current.config.resultExpires,
    },
    taskId,
  );
}

/** A handle on any task's result by id (Celery's `AsyncResult(id)`). */
export function asyncResult<R = unknown>(taskId: string): AsyncResult<R> {
  return new AsyncResult<R>(taskId, { store: getResultStore(), revoke });
}
