import { ValidationError } from '../errors.ts';
import { mergeTallies, type NameStats, readStats, type WindowStats, windowOf } from '../results/stats.ts';
import { nowOf, type OpsContext } from './context.ts';
import { resultStore } from './tasks.ts';

/** The most task names one stats request reads (85 keys each, 100 keys a request). */
export const MAX_STATS_NAMES = 200;

export interface TaskStats {
  /** The instant the windows end at; the hour is its last 60 minutes, the day its last 24 to 25 hours. */
  at: string;
  overall: { hour: WindowStats; day: WindowStats };
  tasks: NameStats[];
  /** DynamoDB requests this answer took. */
  requests: number;
}

/**
 * Flower's Monitor: counts by state, failure rate and runtime percentiles per task name and over
 * all of them, for the last hour and day, from the counters the result store adds to as it
 * records outcomes (`shared/results/stats.ts`). Names default to the registry's; a name the
 * registry lacks (a poison message's) may be asked for by name.
 */
export async function taskStats(
  ctx: OpsContext,
  options: { names?: readonly string[] } = {},
): Promise<TaskStats> {
  const names = [...new Set(options.names ?? ctx.registry.list().map((task) => task.name))].sort();
  if (names.length > MAX_STATS_NAMES) {
    throw ValidationError.of('name', `at most ${MAX_STATS_NAMES} task names a request (got ${names.length})`);
  }
  const store = resultStore(ctx);
  const now = nowOf(ctx);
  const read = await readStats(ctx.clients.dynamo, store.table, names, now.getTime());
  return {
    at: now.toISOString(),
    overall: {
      hour: windowOf(mergeTallies(read.tallies.map((t) => t.hour))),
      day: windowOf(mergeTallies(read.tallies.map((t) => t.day))),
    },
    tasks: read.stats,
    requests: read.requests,
  };
}
