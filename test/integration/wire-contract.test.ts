import { beforeAll, describe, expect, it } from 'vitest';
import { createResultStore, createWorkerRuntime } from '../../shared/app.ts';
import type { Logger } from '../../shared/log.ts';
import type { ResultStore } from '../../shared/results/index.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import type { WorkerRuntime } from '../../shared/worker/index.ts';
import { useEmulator } from '../support/emulator.ts';
import { invocation, type ProvisionedStack, provisionStack, sqsRecord } from '../support/stack.ts';

useEmulator();

// Issue #9, finding 6: what a producer in another language sends is read as documented in
// docs/envelope.md, and what goes wrong is recorded where that producer can read it back.
const registry = new TaskRegistry();
const ran: string[] = [];
defineTask(
  'wire.add',
  (ctx, x: number, y: number) => {
    ran.push(ctx.request.id);
    return x + y;
  },
  {},
  registry,
);
defineTask('wire.later', (ctx) => ctx.retry({ countdown: 600 }), { maxRetries: 5 }, registry);

let stack: ProvisionedStack;
let runtime: WorkerRuntime;
let store: ResultStore;
const errors: { message: string; fields: Record<string, unknown> }[] = [];
const logger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error(message, fields = {}) {
    errors.push({ message, fields });
  },
};

/** A body as a foreign producer writes it: plain JSON, no defaults filled in. */
const json = (fields: Record<string, unknown>) => JSON.stringify({ v: 1, ...fields });

async function deliver(...bodies: string[]) {
  const records = bodies.map((body) => sqsRecord(body));
  const response = await runtime.processBatch(records, invocation());
  return { records, failed: response.batchItemFailures.map((f) => f.itemIdentifier) };
}

beforeAll(async () => {
  stack = await provisionStack();
  const wiring = { config: stack.config, clients: stack.clients, registry };
  runtime = createWorkerRuntime({ ...wiring, logger });
  store = createResultStore(wiring);
});

describe('a reused task id is reported, and the first task keeps its result (issue #9 finding 6)', () => {
  it('tells a redelivery (dropped quietly) from another task under the same id (noted and logged)', async () => {
    const first = json({ id: 'wire-reuse-1', task: 'wire.add', args: [1, 2] });
    await deliver(first);
    expect(await store.get('wire-reuse-1')).toMatchObject({ status: 'SUCCESS', result: '3' });

    // The same message again (SQS delivers at least once): not run again, nothing to report.
    errors.length = 0;
    expect((await deliver(first)).failed).toEqual([]);
    expect(errors).toEqual([]);
    expect((await store.get('wire-reuse-1'))?.idReused).toBeUndefined();

    // A different call that reuses the id: not run, the first result kept, the reuse reported.
    const { records, failed } = await deliver(
      json({ id: 'wire-reuse-1', task: 'wire.add', args: [5, 5], origin: 'python@web-1' }),
    );
    expect(failed).toEqual([]);
    expect(ran.filter((id) => id === 'wire-reuse-1')).toHaveLength(1);
    const row = await store.get('wire-reuse-1');
    expect(row).toMatchObject({ status: 'SUCCESS', result: '3', args: '[1,2]' });
    expect(row?.idReused).toContain(records[0]?.messageId);
    expect(row?.idReused).toContain('python@web-1');
    expect(errors).toEqual([
      expect.objectContaining({
        message: expect.stringMatching(/task id reused/),
        fields: expect.objectContaining({
          taskId: 'wire-reuse-1',
          messageId: records[0]?.messageId,
          firstTask: 'wire.add',
          firstStatus: 'SUCCESS',
        }),
      }),
    ]);
  });

  it('takes the same call with its kwargs in another order as the same call', async () => {
    await deliver(json({ id: 'wire-reuse-2', task: 'wire.add', args: [1, 1], kwargs: { a: 1, b: [2] } }));
    errors.length = 0;
    await deliver(json({ id: 'wire-reuse-2', task: 'wire.add', args: [1, 1], kwargs: { b: [2], a: 1 } }));
    expect(errors).toEqual([]);
  });

  it('never takes over the row of a task waiting for its retry, and waits to note the reuse', async () => {
    await deliver(json({ id: 'wire-reuse-3', task: 'wire.later' }));
    expect(await store.get('wire-reuse-3')).toMatchObject({ status: 'RETRY', retries: 1 });
    errors.length = 0;
    const { records, failed } = await deliver(
      json({ id: 'wire-reuse-3', task: 'wire.add', args: [2, 2], retries: 1 }),
    );
    expect(ran).not.toContain('wire-reuse-3');
    // Not lost: it comes back, to be noted on the row once the first task has finished.
    expect(failed).toEqual([records[0]?.messageId]);
    expect(await store.get('wire-reuse-3')).toMatchObject({ status: 'RETRY', taskName: 'wire.later' });
    expect(errors.map((e) => e.fields.firstStatus)).toEqual(['RETRY']);
  });
});

describe('a bad envelope from outside is a FAILURE read back under its id (issue #9 finding 6)', () => {
  it('records an id with spaces under that id, naming the field', async () => {
    const { records, failed } = await deliver(json({ id: 'order 42', task: 'wire.add', args: [1, 2] }));
    // Poison: its record goes on to the DLQ, and the reason is on the row.
    expect(failed).toEqual([records[0]?.messageId]);
    const row = await store.get('order 42');
    expect(row).toMatchObject({ status: 'FAILURE', taskName: 'wire.add' });
    expect(row?.traceback).toMatch(/envelope\.id: may hold only letters, digits and _ \. : -/);
  });

  it('refuses an unknown field by name (a countdown), never running the task without it', async () => {
    await deliver(json({ id: 'wire-countdown', task: 'wire.add', args: [1, 2], countdown: 60 }));
    expect(ran).not.toContain('wire-countdown');
    const row = await store.get('wire-countdown');
    expect(row?.status).toBe('FAILURE');
    expect(row?.traceback).toMatch(/envelope\.countdown: is not a field .*set eta/);
  });
});

describe("a naive eta is UTC, as Celery's utcnow() writes it (issue #9 finding 6)", () => {
  const naive = (ms: number) => new Date(Date.now() + ms).toISOString().slice(0, 23);

  it('runs a naive eta that has come', async () => {
    expect(
      (await deliver(json({ id: 'wire-naive-past', task: 'wire.add', args: [2, 3], eta: naive(-2000) })))
        .failed,
    ).toEqual([]);
    expect(await store.get('wire-naive-past')).toMatchObject({ status: 'SUCCESS', result: '5' });
  });

  it('holds back a naive eta still to come, recording nothing yet', async () => {
    const { failed } = await deliver(
      json({ id: 'wire-naive-later', task: 'wire.add', args: [2, 3], eta: naive(120_000) }),
    );
    expect(failed).toEqual([]);
    expect(ran).not.toContain('wire-naive-later');
    expect(await store.get('wire-naive-later')).toBeUndefined();
  });
});
