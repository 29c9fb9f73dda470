import { type LocalCloud, type LocalStreamWorker, startLocalCloud } from '../localstack/local-cloud.ts';
import { createPeriodicTaskStore } from '../shared/app.ts';
import type { PeriodicTaskInput } from '../shared/beat/index.ts';

const SCHEDULER_OPERATIONS = [
  'CreateSchedule',
  'UpdateSchedule',
  'DeleteSchedule',
  'GetSchedule',
  'ListSchedules',
];
const WRITERS = 16;

export interface BeatFigures {
  definitions: number;
  /** From the first write to the last schedule created. */
  syncSeconds: number;
  /** Writing the rows alone (the admin API's or CLI's share). */
  writeSeconds: number;
  schedulerCalls: number;
  syncInvocations: number;
  statUpdates: number;
  statSchedulerCalls: number;
  statInvocations: number;
  statFilteredOut: number;
}

function definition(i: number): PeriodicTaskInput {
  const name = `bench ${String(i).padStart(5, '0')}`;
  const task = 'apps.demo.tasks.noop';
  return i % 2 === 0
    ? { name, task, crontab: { minute: String(i % 60), hour: String(i % 24), dayOfWeek: 'mon-fri' } }
    : { name, task, interval: { every: (i % 30) + 1, period: 'minutes' } };
}

async function inLanes<T>(items: readonly T[], lanes: number, work: (item: T) => Promise<unknown>) {
  let next = 0;
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < items.length) await work(items[next++] as T);
    }),
  );
}

function schedulerCalls(worker: LocalStreamWorker): number {
  const snapshot = worker.requests.snapshot();
  return SCHEDULER_OPERATIONS.reduce((sum, op) => sum + (snapshot[op] ?? 0), 0);
}

/**
 * The beat path as deployed, locally: rows written to the periodic-tasks table, its stream read
 * by the poller with the mapping's filter, the real beat-sync handler creating schedules.
 */
export async function measureBeat(count: number): Promise<BeatFigures> {
  let synced = 0;
  let wake: (() => void) | undefined;
  const cloud: LocalCloud = await startLocalCloud({
    workers: false,
    streams: true,
    logLevel: 'silent',
    onStreamBatch: (_worker, report) => {
      synced += report.sequenceNumbers.length - report.failed.length;
      wake?.();
    },
  });
  try {
    const worker = cloud.streamWorkers[0];
    if (!worker) throw new Error('the stack has no stream mapping to run the beat sync');
    const store = createPeriodicTaskStore({ config: cloud.config, clients: cloud.clients, registry: false });
    const indexes = Array.from({ length: count }, (_, i) => i);

    const t0 = performance.now();
    await inLanes(indexes, WRITERS, (i) => store.add(definition(i)));
    const writeSeconds = (performance.now() - t0) / 1000;
    while (synced < count) await new Promise<void>((resolve) => (wake = resolve));
    const syncSeconds = (performance.now() - t0) / 1000;
    const calls = schedulerCalls(worker);
    const invocations = worker.poller.stats.invocations;

    const filteredBefore = worker.poller.stats.filteredOut;
    const callsBefore = schedulerCalls(worker);
    const lastRunAt = new Date().toISOString();
    await inLanes(indexes, WRITERS, (i) =>
      store.recordRuns([{ name: definition(i).name, count: 1, lastRunAt }]),
    );
    // Consumed once the poller has read (and filtered out) every one of them.
    while (worker.poller.stats.filteredOut - filteredBefore < count) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    return {
      definitions: count,
      syncSeconds,
      writeSeconds,
      schedulerCalls: calls,
      syncInvocations: invocations,
      statUpdates: count,
      statSchedulerCalls: schedulerCalls(worker) - callsBefore,
      statInvocations: worker.poller.stats.invocations - invocations,
      statFilteredOut: worker.poller.stats.filteredOut - filteredBefore,
    };
  } finally {
    await cloud.stop();
  }
}
