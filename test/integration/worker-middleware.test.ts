import { setTimeout as sleep } from 'node:timers/promises';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createResultStore } from '../../shared/app.ts';
import { configure } from '../../shared/config/index.ts';
import { encodeEnvelope } from '../../shared/envelope/index.ts';
import { setLogWriter } from '../../shared/log.ts';
import type { ResultStore } from '../../shared/results/index.ts';
import { defineTask } from '../../shared/task/define.ts';
import { useEmulator } from '../support/emulator.ts';
import { provisionStack, sqsRecord } from '../support/stack.ts';

/**
 * functions/worker.ts as Lambda runs it, against moto: what its middlewares add to the runtime.
 * Each test fails if the entry stops using the middleware it is about.
 */
useEmulator();

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
let handler: Handler;
let store: ResultStore;
const savedEnv = { ...process.env };
const lines: Record<string, unknown>[] = [];
/** What the cooperative task found on `ctx.signal.reason` when it was aborted. */
const reasons = new Map<string, string>();

// On the app's default registry, as functions/tasks/ registers LabControl's.
defineTask('tests.mw.fast', () => 'fast');
defineTask(
  'tests.mw.stuck',
  // Never finishes on its first delivery (and does not watch ctx.signal); runs on the next.
  (ctx) => (ctx.request.deliveryCount === 1 ? new Promise(() => {}) : 'ran again'),
  { timeLimit: 20 },
);
defineTask(
  'tests.mw.cooperative',
  (ctx) =>
    new Promise((_, reject) => {
      ctx.signal.addEventListener('abort', () => {
        reasons.set(ctx.request.id, (ctx.signal.reason as Error).name);
        reject(ctx.signal.reason);
      });
    }),
  { timeLimit: 20 },
);

const record = (id: string, task: string, receiveCount = 1) =>
  sqsRecord(encodeEnvelope({ v: 1, id, task, args: [], queue: 'default' }).body, receiveCount);

/** Lambda's context for an invocation that ends `remainingMs` from now. */
function context(requestId: string, remainingMs: number): Context {
  const end = Date.now() + remainingMs;
  return {
    awsRequestId: requestId,
    functionName: 'celerity-worker-default',
    getRemainingTimeInMillis: () => end - Date.now(),
  } as unknown as Context;
}

/** Runs one invocation, with the EMF documents it wrote to stdout. */
async function invoke(records: ReturnType<typeof record>[], ctx: Context) {
  const emf: Record<string, unknown>[] = [];
  const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    if (String(chunk).includes('"_aws"')) emf.push(JSON.parse(String(chunk)));
    return true;
  });
  try {
    return { response: await handler({ Records: records }, ctx), emf };
  } finally {
    write.mockRestore();
  }
}

beforeAll(async () => {
  const stack = await provisionStack();
  const worker = Object.values(stack.resources.functions).find((f) => f.entry === 'functions/worker.ts');
  Object.assign(process.env, worker?.environment, {
    LOG_LEVEL: 'info',
    // One run at a time, so a run stuck at the end of the invocation keeps the next from starting.
    CELERITY_WORKER_CONCURRENCY: '1',
    // In Lambda, the metrics go to stdout as EMF lines.
    AWS_LAMBDA_FUNCTION_NAME: 'celerity-worker-default',
  });
  configure({});
  setLogWriter((line) => lines.push(JSON.parse(line)));
  ({ handler } = (await import('../../functions/worker.ts')) as unknown as { handler: Handler });
  store = createResultStore({ config: stack.config, clients: stack.clients });
});

afterAll(() => {
  setLogWriter(undefined);
  process.env = savedEnv;
});

describe('functions/worker.ts and its middlewares', () => {
  it('gives back the runs the invocation’s end cuts short, recording nothing for them (invocationDeadline)', async () => {
    const started = Date.now();
    const batch = [
      record('mw-fast', 'tests.mw.fast'),
      record('mw-stuck', 'tests.mw.stuck'),
      record('mw-later', 'tests.mw.fast'),
    ];
    lines.length = 0;
    const { response, emf } = await invoke(batch, context('mw-req-1', 6_000));

    // The run that finished is recorded; the one still going and the one not started come back.
    expect(response.batchItemFailures.map((f) => f.itemIdentifier).sort()).toEqual(
      [batch[1]?.messageId, batch[2]?.messageId].sort(),
    );
    expect(await store.get('mw-fast')).toMatchObject({ status: 'SUCCESS', result: '"fast"' });
    for (const id of ['mw-stuck', 'mw-later']) {
      const row = await store.get(id);
      expect(row?.status).toBe('PENDING');
      expect(row?.errorType).toBeUndefined();
    }

    // Metrics, flushed once for the invocation (logMetrics): the finished run, and only it.
    expect(emf).toEqual([
      expect.objectContaining({ Task: 'tests.mw.fast', TasksSucceeded: 1, TasksFailed: 0 }),
    ]);

    // Every line of the invocation names it (injectLambdaContext); the container was cold.
    expect(lines.length).toBeGreaterThan(0);
    for (const line of lines)
      expect(line).toMatchObject({
        requestId: 'mw-req-1',
        function: 'celerity-worker-default',
        coldStart: true,
      });
    expect(lines).toContainEqual(expect.objectContaining({ message: 'task succeeded', taskId: 'mw-fast' }));

    // Delivered again once the cut-short invocation's lease has ended, both run.
    await sleep(Math.max(0, started + 6_000 + 100 - Date.now()));
    lines.length = 0;
    const again = await invoke(
      [record('mw-stuck', 'tests.mw.stuck', 2), record('mw-later', 'tests.mw.fast', 2)],
      context('mw-req-2', 60_000),
    );
    expect(again.response.batchItemFailures).toEqual([]);
    expect(await store.get('mw-stuck')).toMatchObject({ status: 'SUCCESS', result: '"ran again"' });
    expect(await store.get('mw-later')).toMatchObject({ status: 'SUCCESS', result: '"fast"' });
    expect(again.emf).toHaveLength(2);
    for (const line of lines) expect(line).toMatchObject({ requestId: 'mw-req-2', coldStart: false });
  });

  it('tells a running body on ctx.signal that the invocation is ending, beside its soft limit', async () => {
    const cooperative = record('mw-coop', 'tests.mw.cooperative');
    const { response } = await invoke([cooperative], context('mw-req-3', 4_000));
    expect(reasons.get('mw-coop')).toBe('InvocationDeadlineError');
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: cooperative.messageId }]);
    expect((await store.get('mw-coop'))?.status).toBe('PENDING');
  });
});
