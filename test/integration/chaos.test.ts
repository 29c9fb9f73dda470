import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChaosDrill, describeChaos } from '../../localstack/dev/chaos.ts';
import { type LocalCloud, startLocalCloud } from '../../localstack/local-cloud.ts';
import { defineTask } from '../../shared/task/define.ts';
import { useEmulator } from '../support/emulator.ts';

const { endpoint } = useEmulator();

const TASKS = 2_000;
// The stack's maxReceiveCount is 5: a batch-mate caught in four crashes in a row would be
// dead-lettered after it ran (see ChaosOptions.maxReceiveCount); the figures print the highest count.
const drill = new ChaosDrill({
  tasks: TASKS,
  crashRate: 0.05,
  duplicateRate: 0.05,
  seed: 8,
  maxReceiveCount: 10,
});
defineTask('tests.chaos.count', drill.body);

let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await startLocalCloud({
    endpoint,
    logLevel: 'silent',
    streams: false,
    clock: false,
    onBatch: drill.onBatch,
    overrides: {
      // A crashed run's lease ends with its invocation (5 s), before its messages come back (8 s):
      // the next delivery takes it over. The stack keeps the same order at 6 × the timeout.
      functionTimeoutSeconds: 5,
      visibilityTimeoutSeconds: 8,
      // The stack's 100 a batch would lose nearly every batch to a 5 % crash rate (see the report).
      batchSize: 10,
      waitTimeSeconds: 1,
    },
  });
});

afterAll(async () => {
  await cloud?.stop();
});

describe('chaos: crashed invocations and duplicated deliveries through the local cloud', () => {
  it(`${TASKS} tasks, 5 % of runs crashing their invocation and 5 % delivered twice, all end SUCCESS`, async () => {
    const figures = await drill.run(cloud, 'tests.chaos.count');
    console.log(`chaos: ${describeChaos(figures)}`);
    expect(figures.problems).toEqual([]);
    expect(figures.succeeded).toBe(TASKS);
    // The drill did what it says: crashes on both sides of the side effect, and duplicates.
    expect(figures.crashes.beforeSideEffect).toBeGreaterThan(20);
    expect(figures.crashes.afterSideEffect).toBeGreaterThan(20);
    expect(figures.duplicates).toBeGreaterThan(50);
    // Each crash abandoned its own invocation. (One that timed out under load would be accounted
    // the same way, what ran in it counted as re-runs; the figures say how many.)
    expect(figures.crashedInvocations).toBe(
      figures.crashes.beforeSideEffect + figures.crashes.afterSideEffect,
    );
    // At-least-once, and only there: every run beyond one per task happened in an abandoned
    // invocation (the crashed body itself, or a batch-mate that had finished before the crash).
    expect(figures.reRuns.total).toBe(figures.reRuns.crashedBodies + figures.reRuns.batchMates);
    expect(figures.reRuns.crashedBodies).toBe(figures.crashes.afterSideEffect);
  }, 300_000);
});
