import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SQSBatchResponse } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { crashInvocation } from '../../localstack/lambda/invocation-scope.ts';
import { type LocalCloud, startLocalCloud } from '../../localstack/local-cloud.ts';
import { defineTask } from '../../shared/task/define.ts';
import { useEmulator } from '../support/emulator.ts';
import { logEntries } from '../support/log-file.ts';
import { until } from '../support/until.ts';

const { endpoint } = useEmulator();

/** Each task misbehaves on its first delivery only, so that it then ends SUCCESS. */
defineTask('tests.invlog.crash', async (ctx) => {
  if (ctx.request.deliveryCount === 1) await crashInvocation('the test pulled the plug');
  return 'ran';
});
defineTask('tests.invlog.block', async (ctx) => {
  // CPU-bound past the function timeout: nothing in-process can interrupt it; Lambda's timeout can.
  if (ctx.request.deliveryCount === 1) for (const end = Date.now() + 2_500; Date.now() < end; );
  return 'ran';
});
defineTask('tests.invlog.plain', async () => 'ran');

/** What the wrapped handler does on a plain task's first delivery: throw, or hand it back. */
const misbehave = new Map<string, 'throw' | 'return'>();

let cloud: LocalCloud;
let logDir: string;
const terminal: string[] = [];

beforeAll(async () => {
  logDir = mkdtempSync(join(tmpdir(), 'celerity-invlog-'));
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => {
    terminal.push(String(chunk));
    return true;
  });
  cloud = await startLocalCloud({
    endpoint,
    logDir,
    // What `npm run dev` shows on its terminal by default.
    logLevel: 'warn',
    streams: false,
    clock: false,
    overrides: { functionTimeoutSeconds: 2, visibilityTimeoutSeconds: 3, waitTimeSeconds: 1 },
    wrapHandler:
      (handler) =>
      async (event, context): Promise<SQSBatchResponse | undefined> => {
        const first = event.Records.find((r) => r.attributes.ApproximateReceiveCount === '1');
        const mode = first ? misbehave.get(JSON.parse(first.body).id) : undefined;
        if (first && mode === 'throw') throw new TypeError('the handler fell over');
        if (first && mode === 'return') return { batchItemFailures: [{ itemIdentifier: first.messageId }] };
        return (await handler(event, context)) ?? undefined;
      },
  });
});

afterAll(async () => {
  await cloud?.stop();
  vi.restoreAllMocks();
  rmSync(logDir, { recursive: true, force: true });
});

const workerLog = () => logEntries(logDir, 'worker');

/** Sends one task, waits for it to end SUCCESS, and returns the invocation entry that sent it back. */
async function returnedEntry(task: string, mode?: 'throw' | 'return') {
  const [call] = [{ task, taskId: `invlog-${task.split('.').at(-1)}-${mode ?? 'self'}` }];
  if (mode) misbehave.set(call.taskId, mode);
  await cloud.producer.send(call);
  await until(`${call.taskId} SUCCESS`, async () =>
    (await cloud.store.get(call.taskId))?.status === 'SUCCESS' ? true : undefined,
  );
  const entry = await until(`the invocation entry naming ${call.taskId}`, async () =>
    workerLog().find(
      (e) => e.message === 'invocation' && (e.taskIds as string[] | undefined)?.includes(call.taskId),
    ),
  );
  const line = terminal.find((text) => text.includes(call.taskId) && text.includes('invocation'));
  return { taskId: call.taskId, entry, line };
}

describe('a failed invocation is never silent in the local cloud', () => {
  it('an invocation that crashes is an ERROR line on the terminal and in worker.log, naming its records', async () => {
    const { taskId, entry, line } = await returnedEntry('tests.invlog.crash');
    expect(entry).toMatchObject({
      level: 'error',
      outcome: 'crash',
      cause: 'the invocation crashed: the test pulled the plug',
      failed: 1,
      taskIds: [taskId],
    });
    expect(entry.messageIds).toHaveLength(1);
    expect(line).toMatch(/ERROR \[worker\/default\] invocation .*outcome=crash/);
    expect(line).toContain(`taskIds=${taskId}`);
  });

  it('an invocation that runs past its timeout is logged with Lambda’s cause; the late run records nothing', async () => {
    const { taskId, entry, line } = await returnedEntry('tests.invlog.block');
    expect(entry).toMatchObject({
      level: 'error',
      outcome: 'timeout',
      cause: 'Task timed out after 2.00 seconds',
      taskIds: [taskId],
    });
    expect(line).toContain('outcome=timeout');
    // The blocked run woke up after the timeout and would have written FAILURE (TimeLimitExceeded):
    // it was fenced off, so the next delivery ran the task.
    expect((await cloud.store.get(taskId))?.result).toBe('"ran"');
  });

  it('an invocation whose handler throws is logged with the error', async () => {
    const { taskId, entry, line } = await returnedEntry('tests.invlog.plain', 'throw');
    expect(entry).toMatchObject({
      level: 'error',
      outcome: 'error',
      cause: 'the handler threw TypeError: the handler fell over',
      taskIds: [taskId],
    });
    expect(line).toContain('cause=the handler threw TypeError: the handler fell over');
  });

  it('records returned as batchItemFailures are a WARN line naming them', async () => {
    const { taskId, entry, line } = await returnedEntry('tests.invlog.plain', 'return');
    expect(entry).toMatchObject({
      level: 'warn',
      outcome: 'partial',
      cause: expect.stringMatching(/^the function returned 1 of \d+ records as batchItemFailures$/),
      failed: 1,
      taskIds: [taskId],
    });
    expect(line).toMatch(/WARN {2}\[worker\/default\] invocation /);
  });
});
