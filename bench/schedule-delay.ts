import { type LocalCloud, startLocalCloud } from '../localstack/local-cloud.ts';
import type { ClockFire } from '../localstack/scheduler/scheduler-clock-types.ts';
import { createPeriodicTaskStore } from '../shared/app.ts';

export interface ScheduleDelayFigures {
  runs: number;
  /** Due time → the clock's SendMessage (what EventBridge Scheduler's own lateness stands for). */
  fireMedianMs: number;
  fireMaxMs: number;
  /** Due time → the worker's claim of the task (the run's `dateStarted`). */
  startMedianMs: number;
  startMaxMs: number;
}

const median = (values: number[]) => {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
};

/**
 * The whole beat path in the local cloud: clocked periodic tasks written to the table, synced to
 * schedules through the stream, fired by the scheduler clock, run by the worker under its poller.
 */
export async function measureScheduleDelay(count: number): Promise<ScheduleDelayFigures> {
  const fired: ClockFire[] = [];
  const cloud: LocalCloud = await startLocalCloud({ logLevel: 'silent', onFire: (fire) => fired.push(fire) });
  try {
    const store = createPeriodicTaskStore({ config: cloud.config, clients: cloud.clients });
    const first = Math.ceil((Date.now() + 15_000) / 1000) * 1000;
    for (let i = 0; i < count; i++) {
      await store.add({
        name: `delay ${i}`,
        task: 'apps.demo.tasks.noop',
        clocked: { clockedTime: new Date(first + i * 500).toISOString() },
      });
    }
    const deadline = Date.now() + 120_000;
    const starts = new Map<string, number>();
    while (starts.size < count && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
      for (const fire of fired) {
        if (starts.has(fire.executionId)) continue;
        const record = await cloud.store.get(fire.executionId);
        if (record?.dateStarted && record.status === 'SUCCESS') {
          starts.set(fire.executionId, Date.parse(record.dateStarted) - fire.scheduledTime.getTime());
        }
      }
    }
    const fireDelays = fired.map((f) => f.delayMs);
    const startDelays = [...starts.values()];
    return {
      runs: starts.size,
      fireMedianMs: median(fireDelays),
      fireMaxMs: Math.max(...fireDelays),
      startMedianMs: median(startDelays),
      startMaxMs: Math.max(...startDelays),
    };
  } finally {
    await cloud.stop();
  }
}
