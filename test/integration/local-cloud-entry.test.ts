import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BatchReport } from '../../localstack/event-sources/sqs-poller.ts';
import { type LocalCloud, startLocalCloud } from '../../localstack/local-cloud.ts';
import { defineTask } from '../../shared/task/define.ts';
import { ENDING } from '../../shared/worker/run.ts';
import { useEmulator } from '../support/emulator.ts';
import { logEntries } from '../support/log-file.ts';
import { until } from '../support/until.ts';

/**
 * The local cloud runs `functions/worker.ts` as Lambda loads it (issue 10): the entry's middlewares
 * are active locally, where the local cloud used to rebuild the handler from the runtime alone.
 */
const { endpoint } = useEmulator();

defineTask('tests.entry.plain', async () => 'ran');
/** Still going when its first invocation ends: async, so the invocation deadline can give it back. */
defineTask('tests.entry.slow', async (ctx) => {
  if (ctx.request.deliveryCount === 1) await new Promise((resolve) => setTimeout(resolve, 4_000));
  return 'ran';
});

let cloud: LocalCloud;
let logDir: string;
const reports: BatchReport[] = [];

beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), 'celerity-entry-'));
  cloud = await startLocalCloud({
    endpoint,
    logDir,
    // What `npm run dev` shows on its terminal by default; worker.log still holds the info lines.
    logLevel: 'warn',
    streams: false,
    clock: false,
    // A 2 s function: the invocation deadline's margin is a tenth of it, 200 ms.
    overrides: { functionTimeoutSeconds: 2, visibilityTimeoutSeconds: 3, waitTimeSeconds: 1 },
    onBatch: (_worker, report) => reports.push(report),
  });
});

afterAll(async () => {
  await cloud?.stop();
  rmSync(logDir, { recursive: true, force: true });
});

const workerLog = () => logEntries(logDir, 'worker');

async function succeeded(taskId: string): Promise<void> {
  await until(`${taskId} SUCCESS`, async () =>
    (await cloud.store.get(taskId))?.status === 'SUCCESS' ? true : undefined,
  );
}

describe('the local cloud loads functions/worker.ts as Lambda would', () => {
  it('a line the worker writes during an invocation carries the entry’s log context (requestId, function)', async () => {
    const taskId = 'entry-plain-1';
    await cloud.producer.send({ task: 'tests.entry.plain', taskId });
    await succeeded(taskId);
    const line = await until('the worker’s "task succeeded" line', async () =>
      workerLog().find((e) => e.message === 'task succeeded' && e.taskId === taskId),
    );
    expect(line).toMatchObject({
      component: 'worker',
      function: cloud.workers.find((w) => w.queue.route === 'default')?.function.name,
      coldStart: expect.any(Boolean),
    });
    // The request id is the invocation's: the one the poller gave the Lambda context.
    const ran = await until('the invocation that ran it', async () =>
      reports.find((r) => r.requestId === line.requestId),
    );
    expect(ran.outcome).toBe('success');
  });

  it('as the invocation nears its timeout, the deadline middleware gives the unfinished run back (partial, not a timeout)', async () => {
    const taskId = 'entry-slow-1';
    await cloud.producer.send({ task: 'tests.entry.slow', taskId });
    const first = await until('the first invocation of the slow task', async () =>
      reports.find((r) => r.outcome !== 'success' && r.returned.some((rec) => rec.body.includes(taskId))),
    );
    expect(first.outcome).toBe('partial');
    expect(first.failed).toHaveLength(1);
    // The log file is written behind the invocation's report: wait for the line, not just look.
    const given = await until('the worker’s "batch returns records" line', async () =>
      workerLog().find(
        (e) => e.message === 'batch returns records to their queue' && e.requestId === first.requestId,
      ),
    );
    expect(given?.records).toEqual([{ messageId: first.failed[0], reason: ENDING }]);
    // The next delivery runs it to the end.
    await succeeded(taskId);
  });
});
