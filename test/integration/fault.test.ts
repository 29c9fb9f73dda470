import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { queueDepth } from '../../localstack/dev/chaos.ts';
import { type LocalCloud, startLocalCloud } from '../../localstack/local-cloud.ts';
import { defineTask } from '../../shared/task/define.ts';
import { useEmulator } from '../support/emulator.ts';

const { endpoint } = useEmulator();

const TASKS = 2_000;
const KILLS = 6;
const WAVE = 200;
/** Side effects, counted where they happen: the task body. */
const runs = new Map<string, number>();
defineTask('tests.fault.count', async (ctx) => {
  runs.set(ctx.request.id, (runs.get(ctx.request.id) ?? 0) + 1);
  return 'counted';
});

let cloud: LocalCloud;

beforeAll(async () => {
  cloud = await startLocalCloud({
    endpoint,
    logLevel: 'silent',
    streams: false,
    // A short visibility timeout, so messages a dead poller held come back within the test.
    overrides: { visibilityTimeoutSeconds: 15, waitTimeSeconds: 1 },
  });
});

afterAll(async () => {
  await cloud?.stop();
});

const depth = (url: string) => queueDepth(cloud.clients.sqs, url);

describe('fault: the worker poller killed and restarted mid-batch', () => {
  it(`${TASKS} tasks all end SUCCESS exactly once: none lost, none run twice`, async () => {
    const worker = cloud.workers.find((w) => w.queue.route === 'default');
    if (!worker) throw new Error('no default worker');
    // Sent in waves: moto's receives slow down in proportion to a queue's depth (EMULATOR.md).
    const ids: string[] = [];
    let kills = 0;
    const deadline = Date.now() + 240_000;
    const killer = (async () => {
      let deletedAtStart = -1;
      while (kills < KILLS && Date.now() < deadline) {
        // Kill only while a batch is being handled (the case that could lose or repeat work), and
        // only once the poller started last has finished a batch of its own: killing it again before
        // then would abandon the same oldest copies each time, five times over, and send them to the
        // DLQ, as SQS does with any message received five times and never deleted.
        while (
          (worker.poller.stats.inFlight === 0 || worker.poller.stats.deleted <= deletedAtStart) &&
          Date.now() < deadline
        ) {
          await new Promise((resolve) => setTimeout(resolve, 20));
        }
        worker.poller.kill();
        kills++;
        await new Promise((resolve) => setTimeout(resolve, 200 + Math.random() * 800));
        deletedAtStart = worker.poller.stats.deleted;
        worker.poller.start();
        await new Promise((resolve) => setTimeout(resolve, 2000 + Math.random() * 2000));
      }
    })();
    for (let wave = 0; wave < TASKS / WAVE; wave++) {
      const sent = await cloud.producer.sendMany(
        Array.from({ length: WAVE }, (_, i) => ({
          task: 'tests.fault.count',
          kwargs: { i: wave * WAVE + i },
        })),
      );
      ids.push(...sent.map((s) => s.taskId));
      while (runs.size < ids.length - WAVE / 2 && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    await killer;
    expect(kills).toBeGreaterThanOrEqual(KILLS);

    // Everything the dead pollers held comes back after its visibility timeout and is settled.
    while (runs.size < TASKS && Date.now() < deadline)
      await new Promise((resolve) => setTimeout(resolve, 500));
    const pending = new Set(ids);
    while (pending.size > 0 && Date.now() < deadline) {
      const checked = await Promise.all(
        [...pending].map(async (id) => [id, await cloud.store.get(id)] as const),
      );
      for (const [id, record] of checked) if (record?.status === 'SUCCESS') pending.delete(id);
      if (pending.size > 0) await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(pending.size).toBe(0);
    for (const id of ids) expect(runs.get(id), id).toBe(1);
    expect(runs.size).toBe(TASKS);

    // Redelivered copies are dropped by the claim, then deleted: nothing is left behind.
    const queue = worker.queue;
    while ((await depth(queue.url)) > 0 && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
    expect(await depth(queue.url)).toBe(0);
    expect(await depth(queue.dlq?.url as string)).toBe(0);
  }, 300_000);
});
