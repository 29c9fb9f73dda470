import type { Wiring } from './app-producer.ts';
import { getAwsClients } from './aws/clients.ts';
import { PeriodicTaskStore } from './beat/store.ts';
import { BeatSync } from './beat/sync.ts';
import { beatTarget } from './beat/target.ts';
import { type CelerityConfig, getConfig } from './config/config.ts';
import { ValidationError } from './errors.ts';
import type { Logger } from './log.ts';
import { defaultRegistry, type TaskRegistry } from './task/registry.ts';
import type { PeriodicBeat } from './worker/periodic.ts';

// What the store and the schedule parsers may throw (the old names, deprecated, included).
export * from './beat/errors.ts';
export type {
  ClockedSchedule,
  CrontabSchedule,
  IntervalSchedule,
  PeriodicTask,
  PeriodicTaskInput,
  SolarSchedule,
} from './beat/model.ts';
export type { PeriodicTaskPatch, StoredPeriodicTask } from './beat/store.ts';
export { PeriodicTaskStore };

/**
 * Beat's side of the app's wiring (`celerity/beat`). The periodic-tasks table: writes refuse tasks the registry does not know, as Django admin offers
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

/** What the worker's periodic bookkeeping needs, made when its first periodic run comes. */
export function periodicBeat(config: CelerityConfig, wiring: Required<Omit<Wiring, 'config'>>): PeriodicBeat {
  return {
    store: createPeriodicTaskStore({ config, clients: wiring.clients, registry: false }),
    scheduler: () => wiring.clients.scheduler,
    target: beatTarget(config, wiring.registry),
  };
}
