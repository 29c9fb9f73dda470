import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../localstack/local-cloud.ts';
import { defineTask } from '../../shared/task/define.ts';
import { useEmulator } from '../support/emulator.ts';

const { endpoint } = useEmulator();

/** When each run of the limited task started, by task id. */
const starts = new Map<string, number[]>();
defineTask(
  'tests.rate.limited',
  (ctx) => {
    starts.set(ctx.request.id, [...(starts.get(ctx.request.id) ?? []), Date.now()]);
    return 'ok';
  },
  { rateLimit: '5/s' },
);

let cloud: LocalCloud;
const concurrency: number[] = [];

beforeAll(async () => {
  cloud = await startLocalCloud({
    endpoint,
    logLevel: 'silent',
    // Small, frequent batches across four concurrent invocations: the limit must hold between them.
    overrides: { maximumBatchingWindowSeconds: 0, maxConcurrency: 4, visibilityTimeoutSeconds: 20 },
    onBatch: (_worker, report) => concurrency.push(report.concurrency),
  });
});

afterAll(async () => {
  await cloud?.stop();
});

describe("a rate limit of '5/s' shared by concurrent workers", () => {
  it('never starts more than 5 runs in any clock second, and defers the rest without failing them', async () => {
    const total = 60;
    const sent = await cloud.producer.sendMany(
      Array.from({ length: total }, () => ({ task: 'tests.rate.limited' })),
    );
    const ids = sent.map((s) => s.taskId);
    for (;;) {
      const states = await Promise.all(ids.map((id) => cloud.store.get(id).then((r) => r?.status)));
      if (states.every((s) => s === 'SUCCESS')) break;
      expect(states.filter((s) => s === 'FAILURE')).toEqual([]);
      await new Promise((resolve) => setTimeout(resolve, 500));
    }

    // Each task ran exactly once.
    expect(ids.map((id) => starts.get(id)?.length)).toEqual(ids.map(() => 1));
    const perSecond = new Map<number, number>();
    for (const [time] of starts.values()) {
      const second = Math.floor((time as number) / 1000);
      perSecond.set(second, (perSecond.get(second) ?? 0) + 1);
    }
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(5);
    // 60 runs at 5 a second need at least 12 distinct seconds: the overflow was deferred, not run.
    expect(perSecond.size).toBeGreaterThanOrEqual(12);
    // The limit held between invocations that really did overlap.
    expect(Math.max(...concurrency)).toBeGreaterThan(1);

    // Deferred runs are not failures: nothing reported failed, nothing in the DLQ.
    const stats = cloud.stats().default;
    expect(stats?.failedRecords).toBe(0);
    const dlq = cloud.resources.queuesByRoute.default?.dlq?.url as string;
    const { Attributes } = await cloud.clients.sqs.send(
      new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['ApproximateNumberOfMessages'] }),
    );
    expect(Attributes?.ApproximateNumberOfMessages).toBe('0');
  });
});
