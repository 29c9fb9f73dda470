/**
 * The chaos drill at benchmark size: 10,000 tasks through the local cloud, 5 % of runs crashing
 * their invocation mid-task and 5 % delivered twice (see `localstack/dev/chaos.ts`).
 */
import { ChaosDrill, type ChaosFigures } from '../localstack/dev/chaos.ts';
import { startLocalCloud } from '../localstack/local-cloud.ts';
import { defineTask } from '../shared/task/define.ts';

const TASK = 'bench.chaos.count';

export async function measureChaos(tasks: number): Promise<ChaosFigures> {
  const drill = new ChaosDrill({
    tasks,
    crashRate: 0.05,
    duplicateRate: 0.05,
    seed: 10,
    maxReceiveCount: 10,
  });
  defineTask(TASK, drill.body);
  const cloud = await startLocalCloud({
    logLevel: 'silent',
    streams: false,
    clock: false,
    onBatch: drill.onBatch,
    // As the CI test: leases end (5 s) before crashed batches come back (8 s); batches of 10.
    overrides: { functionTimeoutSeconds: 5, visibilityTimeoutSeconds: 8, batchSize: 10, waitTimeSeconds: 1 },
  });
  try {
    return await drill.run(cloud, TASK);
  } finally {
    await cloud.stop();
  }
}
