import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeTask } from '../../cli/commands/results.ts';
import { createResultStore, createWorkerRuntime, revoke } from '../../shared/app.ts';
import { chain, type Signature } from '../../shared/canvas/signature.ts';
import { configure, resetConfig } from '../../shared/config/index.ts';
import type { Logger } from '../../shared/log.ts';
import { getTaskResult, taskParts } from '../../shared/ops/index.ts';
import { TaskFailedError } from '../../shared/producer/index.ts';
import type { ResultStore } from '../../shared/results/index.ts';
import * as z from '../../shared/schema.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import type { WorkerRuntime } from '../../shared/worker/index.ts';
import { useEmulator } from '../support/emulator.ts';
import { invocation, type ProvisionedStack, provisionStack, sqsRecord } from '../support/stack.ts';

useEmulator();

/** Every run, by task id: the args it was given. */
const runs = new Map<string, unknown[][]>();
const ran = (id: string, args: unknown[]) => runs.set(id, [...(runs.get(id) ?? []), args]);
const registry = new TaskRegistry();
const add = defineTask(
  'canvas.add',
  (ctx, a: number, b: number) => {
    ran(ctx.request.id, [a, b]);
    return a + b;
  },
  { registry },
);
const mul = defineTask(
  'canvas.mul',
  (ctx, a: number, b: number) => {
    ran(ctx.request.id, [a, b]);
    return a * b;
  },
  { registry },
);
const fail = defineTask(
  'canvas.fail',
  (ctx, ...args: unknown[]) => {
    ran(ctx.request.id, args);
    throw new RangeError('middle member broke');
  },
  { registry },
);
const note = defineTask(
  'canvas.note',
  (ctx, ...args: unknown[]) => {
    ran(ctx.request.id, args);
    return 'noted';
  },
  { registry },
);
const flaky = defineTask(
  'canvas.flaky',
  (ctx, n: number) => {
    ran(ctx.request.id, [n]);
    if (ctx.request.retries === 0) ctx.retry({ countdown: 0 });
    return n + 1;
  },
  { registry, maxRetries: 2 },
);
const wantsText = defineTask(
  'canvas.wants_text',
  (ctx, text: string) => {
    ran(ctx.request.id, [text]);
    return text;
  },
  { registry, argsSchema: z.tuple([z.string()]) },
);

let stack: ProvisionedStack;
let runtime: WorkerRuntime;
let store: ResultStore;
const logger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
/** A signature with its id fixed, so the test knows the id its copy in a message runs under. */
function fixed<S extends Signature>(sig: S): S {
  sig.fixId();
  return sig;
}

/** Every message body the worker was handed, in order. */
const bodies: string[] = [];

beforeAll(async () => {
  stack = await provisionStack();
  configure(stack.config);
  const wiring = { config: stack.config, clients: stack.clients, registry };
  runtime = createWorkerRuntime({ ...wiring, logger });
  store = createResultStore(wiring);
});
afterAll(() => resetConfig());

/** Runs every message on the default queue through the worker, as the event source mapping would, until it is empty. */
async function drain(): Promise<void> {
  const url = stack.config.queues.default?.url as string;
  for (let empty = 0; empty < 2; ) {
    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    if (Messages.length === 0) {
      empty++;
      continue;
    }
    empty = 0;
    bodies.push(...Messages.map((m) => m.Body as string));
    // A record given back (a duplicate of one in flight in the same batch) comes again, as SQS would bring it.
    let records = Messages.map((m) => sqsRecord(m.Body as string));
    for (let round = 0; records.length > 0; round++) {
      expect(round).toBeLessThan(5);
      const response = await runtime.processBatch(records, invocation());
      const back = new Set(response.batchItemFailures.map((f) => f.itemIdentifier));
      records = records.filter((r) => back.has(r.messageId)).map((r) => sqsRecord(r.body, 2));
    }
    await stack.clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
  }
}

describe('chain', () => {
  it('passes each result on as the next part’s first argument, an immutable part ignoring it', async () => {
    const result = await chain(add.s(1, 2), add.si(10, 10), mul.s(3), add.s(4)).applyAsync();
    await drain();
    expect(await result.get({ timeout: 5 })).toBe(64);
    const third = result.parent;
    const second = third?.parent;
    const first = second?.parent;
    expect(await third?.get({ timeout: 5 })).toBe(60);
    expect(await second?.get({ timeout: 5 })).toBe(20);
    expect(await first?.get({ timeout: 5 })).toBe(3);
    expect(first?.parent).toBeUndefined();
    expect(runs.get(second?.id as string)).toEqual([[10, 10]]);
    expect(runs.get(third?.id as string)).toEqual([[20, 3]]);
    expect(runs.get(result.id)).toEqual([[60, 4]]);
    // The rows know the chain: parent and children.
    expect(await store.get(second?.id as string)).toMatchObject({
      parentId: first?.id,
      children: [third?.id],
    });
    expect(await store.get(first?.id as string)).toMatchObject({ children: [second?.id] });
  });

  it('a failing member stops it: the rest never run, their rows hold its error, its linkError runs', async () => {
    const errback = fixed(note.s('errback'));
    const result = await chain(add.s(1, 1), fail.s().onError(errback), add.s(100), add.s(1000)).applyAsync();
    await drain();
    const middle = result.parent?.parent;
    const failedRow = await store.get(middle?.id as string);
    expect(failedRow).toMatchObject({ status: 'FAILURE', errorType: 'RangeError' });
    for (const id of [result.parent?.id as string, result.id]) {
      expect(runs.has(id)).toBe(false);
      expect(await store.get(id)).toMatchObject({
        status: 'FAILURE',
        errorType: 'RangeError',
        traceback: failedRow?.traceback,
      });
    }
    await expect(result.get({ timeout: 5 })).rejects.toBeInstanceOf(TaskFailedError);
    // Celery's errback form across processes: the failed task's id first.
    expect(runs.get(errback.id as string)).toEqual([[middle?.id, 'errback']]);
    expect(await store.get(result.parent?.id as string)).toMatchObject({ parentId: middle?.id });

    // `celerity result <middle>`: its parent and children, each with its state.
    const ctx = { config: stack.config, clients: stack.clients, registry };
    const view = await getTaskResult(ctx, middle?.id as string);
    const parts = await taskParts(ctx, view);
    expect(parts).toEqual({
      parent: { taskId: middle?.parent?.id, taskName: 'canvas.add', status: 'SUCCESS' },
      children: [
        { taskId: result.parent?.id, taskName: 'canvas.add', status: 'FAILURE' },
        { taskId: errback.id, taskName: 'canvas.note', status: 'SUCCESS' },
      ],
    });
    const text = describeTask(view, parts);
    expect(text).toMatch(new RegExp(`^parent +${middle?.parent?.id}  canvas.add  SUCCESS$`, 'm'));
    expect(text).toMatch(new RegExp(`^children +${result.parent?.id}  canvas.add  FAILURE$`, 'm'));
    expect(text).toMatch(new RegExp(`^ +${errback.id}  canvas.note  SUCCESS$`, 'm'));

    // `celerity result <the chain's AsyncResult>` (its last part): the whole chain above it.
    const lastView = await getTaskResult(ctx, result.id);
    const lastParts = await taskParts(ctx, lastView);
    expect(lastParts).toMatchObject({
      ancestors: [
        { taskId: middle?.parent?.id, taskName: 'canvas.add', status: 'SUCCESS' },
        { taskId: middle?.id, status: 'FAILURE' },
      ],
      parent: { taskId: result.parent?.id, taskName: 'canvas.add', status: 'FAILURE' },
      children: [],
    });
    expect(describeTask(lastView, lastParts)).toMatch(
      new RegExp(
        `^ancestors +${middle?.parent?.id}  canvas.add  SUCCESS\n +${middle?.id}  [^ ]+  FAILURE\nparent +${result.parent?.id}  canvas.add  FAILURE$`,
        'm',
      ),
    );
  });

  it('an errback object linked to several parts runs once; one reused by another call runs again', async () => {
    const onChainError = note.s('chain-wide');
    await chain(add.s(1, 1), fail.s().onError(onChainError), add.s(1).onError(onChainError)).applyAsync();
    await fail.applyAsync({ linkError: onChainError });
    await drain();
    const ranWith = [...runs.values()].flat().filter((args) => args.includes('chain-wide'));
    expect(ranWith).toHaveLength(2);
    expect(onChainError.id).toBeUndefined();
  });

  it('a member revoked before it runs: the rest are REVOKED too and no errback runs (as Celery)', async () => {
    const errback = fixed(note.s('revoked-errback'));
    // A frozen chain is applied under the ids it was frozen with.
    const frozen = chain(add.s(1, 1), add.s(1).onError(errback), add.s(1));
    const last = frozen.freeze();
    await revoke(last.parent?.id as string);
    await frozen.applyAsync();
    await drain();
    expect(await store.get(last.parent?.parent?.id as string)).toMatchObject({ status: 'SUCCESS' });
    expect(runs.has(last.parent?.id as string)).toBe(false);
    expect(runs.has(last.id)).toBe(false);
    expect(await store.get(last.id)).toMatchObject({ status: 'REVOKED' });
    expect(runs.has(errback.id as string)).toBe(false);
  });

  it('a next part the queue refuses for good (its args now invalid) is recorded FAILURE, and so is the rest; their errbacks run', async () => {
    const onRefused = fixed(note.s('refused-errback'));
    const onRest = fixed(note.s('rest-errback'));
    const result = await chain(
      add.s(1, 2),
      wantsText.s().onError(onRefused),
      add.s(1).onError(onRest),
    ).applyAsync();
    await drain();
    const refused = result.parent;
    expect(await store.get(refused?.id as string)).toMatchObject({
      status: 'FAILURE',
      errorType: 'ValidationError',
    });
    expect(await store.get(result.id)).toMatchObject({ status: 'FAILURE', errorType: 'ValidationError' });
    expect(runs.has(refused?.id as string)).toBe(false);
    // As for a part that ran and failed: each errback once, with the id of the part it belongs to.
    expect(runs.get(onRefused.id as string)).toEqual([[refused?.id, 'refused-errback']]);
    expect(runs.get(onRest.id as string)).toEqual([[result.id, 'rest-errback']]);
  });

  it('a redelivered finished message with a chain does not run the next part twice', async () => {
    const before = bodies.length;
    const result = await chain(add.s(5, 5), add.s(1), add.s(1)).applyAsync();
    const first = result.parent?.parent;
    const url = stack.config.queues.default?.url as string;
    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    const firstBody = Messages.find((m) => (m.Body as string).includes(first?.id as string))?.Body as string;
    expect(firstBody).toBeDefined();
    // Delivered three times: once to run, twice more after it finished (the next part is re-sent, harmlessly).
    for (let i = 0; i < 3; i++) await runtime.processBatch([sqsRecord(firstBody, i + 1)], invocation());
    await stack.clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    await drain();
    const second = result.parent?.id as string;
    expect(bodies.slice(before).filter((b) => b.includes(`"id":"${second}"`)).length).toBeGreaterThan(1);
    expect(runs.get(first?.id as string)).toHaveLength(1);
    expect(runs.get(second)).toHaveLength(1);
    expect(runs.get(result.id)).toHaveLength(1);
    expect(await result.get({ timeout: 5 })).toBe(12);
  });
});

describe('link and linkError on applyAsync', () => {
  it('a retry is not a finish: no errback runs, and the chain goes on once the retry succeeds', async () => {
    const errback = fixed(note.s('on-retry'));
    const result = await chain(add.s(1, 1), flaky.s().onError(errback), add.s(10)).applyAsync();
    await drain();
    expect(runs.get(result.parent?.id as string)).toEqual([[2], [2]]);
    expect(await result.get({ timeout: 5 })).toBe(13);
    expect(runs.has(errback.id as string)).toBe(false);
  });

  it('link gets the result first; linkError gets the failed id first, an immutable one its own args', async () => {
    const callback = fixed(note.s('linked'));
    const ok = await add.applyAsync({ args: [2, 3], link: callback, linkError: note.s('not me') });
    const errback = fixed(note.s('errback'));
    const frozenErrback = fixed(note.si('immutable'));
    const bad = await fail.applyAsync({ args: [], linkError: [errback, frozenErrback], link: note.s() });
    await drain();
    expect(await ok.get({ timeout: 5 })).toBe(5);
    expect(runs.get(callback.id as string)).toEqual([[5, 'linked']]);
    expect(runs.get(errback.id as string)).toEqual([[bad.id, 'errback']]);
    expect(runs.get(frozenErrback.id as string)).toEqual([['immutable']]);
    expect(await store.get(ok.id)).toMatchObject({ children: [callback.id] });
    expect([...runs.values()].flat().filter((args) => args.includes('not me'))).toEqual([]);
  });
});
