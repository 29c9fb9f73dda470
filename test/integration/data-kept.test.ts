import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod/mini';
import { createResultStore, createWorkerRuntime } from '../../shared/app.ts';
import type { CelerityConfig } from '../../shared/config/index.ts';
import { encodeEnvelope } from '../../shared/envelope/index.ts';
import type { ResultStore } from '../../shared/results/index.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import type { WorkerRuntime } from '../../shared/worker/index.ts';
import { useEmulator } from '../support/emulator.ts';
import { invocation, type ProvisionedStack, provisionStack, sqsRecord } from '../support/stack.ts';
import { until } from '../support/until.ts';

useEmulator();

// Issue #9, finding 5: what a task is given and what it returns are kept as they were.
const registry = new TaskRegistry();
const ran: string[] = [];
defineTask(
  'data.greet',
  (ctx) => {
    ran.push(ctx.request.id);
    return `hello ${String(ctx.kwargs.name)}`;
  },
  { kwargsSchema: z.object({ name: z.string() }) },
  registry,
);
defineTask('data.loose', (ctx) => Object.keys(ctx.kwargs).sort(), {}, registry);
defineTask('data.add', (_ctx, x: number, y: number) => ({ sum: x + y }), {}, registry);
defineTask('data.ratio', (_ctx, x: number, y: number) => [x / y], {}, registry);
defineTask('data.nothing', () => null, {}, registry);
defineTask('data.echo', (_ctx, value: unknown) => value, {}, registry);

let stack: ProvisionedStack;
let config: CelerityConfig;
let runtime: WorkerRuntime;
let store: ResultStore;
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

const body = (id: string, task: string, extra: Record<string, unknown> = {}) =>
  encodeEnvelope({ v: 1, id, task, args: [], queue: 'default', ...extra }).body;

beforeAll(async () => {
  stack = await provisionStack();
  config = stack.config;
  const wiring = { config, clients: stack.clients, registry };
  runtime = createWorkerRuntime({ ...wiring, logger: quiet });
  store = createResultStore(wiring);
});

describe('data kept as it was (issue #9 finding 5)', () => {
  it('a keyword the task does not take is a FAILURE TypeError naming it, and the body never runs', async () => {
    const bad = sqsRecord(body('data-kw-bad', 'data.greet', { kwargs: { name: 'ada', nmae: 'typo' } }));
    const response = await runtime.processBatch(
      [
        bad,
        sqsRecord(body('data-kw-ok', 'data.greet', { kwargs: { name: 'ada' } })),
        sqsRecord(body('data-kw-any', 'data.loose', { kwargs: { a: 1, b: 2 } })),
      ],
      invocation(),
    );
    // Like args its schema refuses, it is poison: returned alone (to the DLQ), redrivable after a deploy.
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: bad.messageId }]);
    const row = await store.get('data-kw-bad');
    expect(row).toMatchObject({ status: 'FAILURE', errorType: 'TypeError' });
    expect(row?.traceback).toContain('unexpected keyword argument "nmae"');
    expect(ran).not.toContain('data-kw-bad');
    expect(await store.get('data-kw-ok')).toMatchObject({ status: 'SUCCESS', result: '"hello ada"' });
    // A task that declares no kwargsSchema takes any keywords, like a Python `**kwargs`.
    expect(await store.get('data-kw-any')).toMatchObject({ status: 'SUCCESS', result: '["a","b"]' });
  });

  it('a result holding Infinity or NaN is a FAILURE ResultNotSerializable, never a SUCCESS of null', async () => {
    await runtime.processBatch(
      [
        sqsRecord(body('data-inf', 'data.add', { args: [1e308, 1e308] })),
        sqsRecord(body('data-nan', 'data.ratio', { args: [0, 0] })),
      ],
      invocation(),
    );
    const inf = await store.get('data-inf');
    expect(inf).toMatchObject({ status: 'FAILURE', errorType: 'ResultNotSerializable' });
    expect(inf?.traceback).toContain('Infinity at key "sum"');
    expect(inf?.result).toBeUndefined();
    const nan = await store.get('data-nan');
    expect(nan).toMatchObject({ status: 'FAILURE', errorType: 'ResultNotSerializable' });
    expect(nan?.traceback).toContain('NaN at key "0"');
  });

  it('a null result, or null inside one, reads back as null', async () => {
    await runtime.processBatch(
      [
        sqsRecord(body('data-null', 'data.nothing')),
        sqsRecord(body('data-null-in', 'data.echo', { args: [{ a: null, b: [null, 1] }] })),
      ],
      invocation(),
    );
    expect(await store.get('data-null')).toMatchObject({ status: 'SUCCESS', result: 'null' });
    const inside = await store.get('data-null-in');
    expect(JSON.parse(inside?.result as string)).toEqual({ a: null, b: [null, 1] });
  });

  it('an eta message sent again by the worker keeps the sender’s origin, or its lack of one', async () => {
    const eta = new Date(Date.now() + 2_000).toISOString();
    const response = await runtime.processBatch(
      [
        sqsRecord(body('data-origin-none', 'data.nothing', { eta })),
        sqsRecord(body('data-origin-py', 'data.nothing', { eta, origin: 'gen123@python-host' })),
      ],
      invocation(),
    );
    expect(response.batchItemFailures).toEqual([]);
    const origins = new Map<string, unknown>();
    await until('both eta messages sent again', async () => {
      const { Messages = [] } = await stack.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: config.queues.default?.url,
          MaxNumberOfMessages: 10,
          WaitTimeSeconds: 1,
        }),
      );
      for (const m of Messages) {
        const sent = JSON.parse(m.Body as string) as { id: string; origin?: string };
        if (sent.id.startsWith('data-origin-')) origins.set(sent.id, sent.origin ?? null);
      }
      return origins.size === 2 ? true : undefined;
    });
    expect(Object.fromEntries(origins)).toEqual({
      'data-origin-none': null,
      'data-origin-py': 'gen123@python-host',
    });
  });
});
