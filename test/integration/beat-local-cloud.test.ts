import { GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, type LocalStreamWorker, startLocalCloud } from '../../localstack/local-cloud.ts';
import { createPeriodicTaskStore } from '../../shared/app.ts';
import { scheduleName } from '../../shared/beat/index.ts';
import type { PeriodicTaskStore } from '../../shared/beat/store.ts';
import { useEmulator } from '../support/emulator.ts';
import { until } from '../support/until.ts';

const { endpoint } = useEmulator();

let cloud: LocalCloud;
let store: PeriodicTaskStore;
let sync: LocalStreamWorker;

async function schedule(name: string) {
  try {
    return await cloud.clients.scheduler.send(
      new GetScheduleCommand({ Name: scheduleName(name), GroupName: cloud.config.beat?.groupName }),
    );
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

const schedulerCalls = () => {
  const counts = sync.requests.snapshot();
  return ['CreateSchedule', 'UpdateSchedule', 'DeleteSchedule', 'GetSchedule', 'ListSchedules'].reduce(
    (sum, op) => sum + (counts[op] ?? 0),
    0,
  );
};

beforeAll(async () => {
  cloud = await startLocalCloud({ endpoint, workers: false, streams: true, logLevel: 'silent' });
  const worker = cloud.streamWorkers.find((w) => w.function.entry === 'functions/beat-sync.ts');
  if (!worker) throw new Error('the local cloud runs no beat-sync function');
  sync = worker;
  store = createPeriodicTaskStore({ config: cloud.config, clients: cloud.clients, registry: false });
});

afterAll(async () => {
  await cloud?.stop();
});

describe('Beat in the local cloud: table → stream → filter → beat-sync → Scheduler', () => {
  it('creates, changes and deletes a schedule as its periodic task is written', async () => {
    await store.add({ name: 'nightly', task: 'apps.demo.tasks.noop', crontab: { minute: '0', hour: '3' } });
    const created = await until('the schedule', () => schedule('nightly'));
    expect(created.ScheduleExpression).toBe('cron(0 3 * * ? *)');

    await store.setEnabled('nightly', false);
    await until('the schedule disabled', async () =>
      (await schedule('nightly'))?.State === 'DISABLED' ? true : undefined,
    );
    await store.remove('nightly');
    await until('the schedule deleted', async () => ((await schedule('nightly')) ? undefined : true));
  });

  it('drops run-statistics records in the mapping filter: no invocation, no Scheduler call', async () => {
    await store.add({
      name: 'counted',
      task: 'apps.demo.tasks.noop',
      interval: { every: 5, period: 'minutes' },
    });
    await until('the schedule', () => schedule('counted'));
    const calls = schedulerCalls();
    const invocations = sync.poller.stats.invocations;
    const filtered = sync.poller.stats.filteredOut;
    for (let run = 0; run < 20; run++) {
      await store.recordRuns([{ name: 'counted', count: 1, lastRunAt: new Date().toISOString() }]);
    }
    await until('the 20 records read', async () =>
      sync.poller.stats.filteredOut - filtered >= 20 ? true : undefined,
    );
    expect(sync.poller.stats.filteredOut - filtered).toBe(20);
    expect(sync.poller.stats.invocations).toBe(invocations);
    expect(schedulerCalls()).toBe(calls);
    expect((await store.get('counted'))?.totalRunCount).toBe(20);
  });
});
