import { setTimeout as sleep } from 'node:timers/promises';
import {
  GetQueueAttributesCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LocalCloud, startLocalCloud } from '../../localstack/local-cloud.ts';
import { configure } from '../../shared/config/index.ts';
import * as z from '../../shared/schema.ts';
import { defineTask } from '../../shared/task/define.ts';
import { useEmulator } from '../support/emulator.ts';

const { endpoint } = useEmulator();

/** How many times each task id's body ran: the side effect that must happen exactly as often as expected. */
const runs = new Map<string, number>();
const ran = (id: string) => runs.set(id, (runs.get(id) ?? 0) + 1);

defineTask('tests.scenario.ok', (ctx, n: number) => {
  ran(ctx.request.id);
  return n * 2;
});
defineTask(
  'tests.scenario.flaky',
  (ctx) => {
    ran(ctx.request.id);
    if (ctx.request.retries < 2) ctx.retry({ countdown: 1, exc: new Error('upstream busy') });
    return 'third time lucky';
  },
  { maxRetries: 3 },
);
defineTask(
  'tests.scenario.always_fails',
  (ctx) => {
    ran(ctx.request.id);
    ctx.retry({ countdown: 1, exc: new Error('never works') });
  },
  { maxRetries: 2 },
);
defineTask(
  'tests.scenario.soft',
  async (ctx) => {
    ran(ctx.request.id);
    await sleep(5000, undefined, { signal: ctx.signal }).catch(() => ctx.signal.throwIfAborted());
  },
  { softTimeLimit: 0.3, timeLimit: 2 },
);
defineTask(
  'tests.scenario.hard',
  async (ctx) => {
    ran(ctx.request.id);
    await sleep(3000); // ignores its signal: only the hard limit ends it
  },
  { timeLimit: 0.5 },
);
defineTask(
  'tests.scenario.typed',
  (ctx, _n: number) => {
    ran(ctx.request.id);
  },
  { argsSchema: z.tuple([z.number()]) },
);

type Kind = 'ok' | 'flaky' | 'always_fails' | 'soft' | 'hard' | 'unknown' | 'not_json' | 'bad_args';
const MIX: [Kind, number][] = [
  ['ok', 600],
  ['flaky', 100],
  ['always_fails', 60],
  ['soft', 60],
  ['hard', 40],
  ['unknown', 50],
  ['not_json', 40],
  ['bad_args', 50],
];
const POISON: ReadonlySet<Kind> = new Set(['unknown', 'not_json', 'bad_args']);

function bodyFor(kind: Kind, id: string, n: number): string {
  if (kind === 'not_json') return `not json ${id}`;
  const task =
    kind === 'unknown'
      ? 'tests.scenario.nobody_knows'
      : kind === 'bad_args'
        ? 'tests.scenario.typed'
        : `tests.scenario.${kind}`;
  const args = kind === 'bad_args' ? ['not a number'] : kind === 'ok' ? [n] : [];
  return JSON.stringify({ v: 1, id, task, args, queue: 'default' });
}

let cloud: LocalCloud;

beforeAll(async () => {
  // Poison messages come back after this, not after the (long) visibility timeout: all five
  // receives before the DLQ fit in the test only if the worker really shortens their wait.
  configure({ poisonRetryDelay: 2 });
  cloud = await startLocalCloud({
    endpoint,
    logLevel: 'silent',
    overrides: { visibilityTimeoutSeconds: 60, maximumBatchingWindowSeconds: 0.5 },
  });
});

afterAll(async () => {
  await cloud?.stop();
});

async function depth(url: string): Promise<number> {
  const { Attributes } = await cloud.clients.sqs.send(
    new GetQueueAttributesCommand({
      QueueUrl: url,
      AttributeNames: [
        'ApproximateNumberOfMessages',
        'ApproximateNumberOfMessagesNotVisible',
        'ApproximateNumberOfMessagesDelayed',
      ],
    }),
  );
  return (
    Number(Attributes?.ApproximateNumberOfMessages) +
    Number(Attributes?.ApproximateNumberOfMessagesNotVisible) +
    Number(Attributes?.ApproximateNumberOfMessagesDelayed)
  );
}

describe('1,000 tasks of mixed kinds through the local cloud', () => {
  it('ends every task in its expected state, the poison ones in the DLQ, nothing lost or run twice', async () => {
    const queue = cloud.resources.queuesByRoute.default;
    if (!queue?.dlq) throw new Error('the default queue has no DLQ');
    const tasks: { kind: Kind; id: string; n: number }[] = [];
    for (const [kind, count] of MIX)
      for (let i = 0; i < count; i++) tasks.push({ kind, id: `${kind}-${i}`, n: i });
    // Interleave the kinds so every batch mixes them.
    tasks.sort((a, b) => a.n - b.n || a.kind.localeCompare(b.kind));

    // moto slows down as a queue deepens: send in slices and let the workers keep up.
    for (let start = 0; start < tasks.length; start += 100) {
      const slice = tasks.slice(start, start + 100);
      for (let i = 0; i < slice.length; i += 10) {
        const entries = slice
          .slice(i, i + 10)
          .map((t, j) => ({ Id: String(j), MessageBody: bodyFor(t.kind, t.id, t.n) }));
        const sent = await cloud.clients.sqs.send(
          new SendMessageBatchCommand({ QueueUrl: queue.url, Entries: entries }),
        );
        expect(sent.Failed ?? []).toEqual([]);
      }
      while ((await depth(queue.url)) > 150) await sleep(200);
    }

    const poisonCount = MIX.filter(([k]) => POISON.has(k)).reduce((sum, [, c]) => sum + c, 0);
    for (;;) {
      const [left, dead] = await Promise.all([depth(queue.url), depth(queue.dlq.url)]);
      if (left === 0 && dead >= poisonCount) break;
      await sleep(500);
    }

    const expected: Record<Kind, { status?: string; errorType?: string; runs: number; retries?: number }> = {
      ok: { status: 'SUCCESS', runs: 1, retries: 0 },
      flaky: { status: 'SUCCESS', runs: 3, retries: 2 },
      always_fails: { status: 'FAILURE', errorType: 'MaxRetriesExceeded', runs: 3, retries: 2 },
      soft: { status: 'FAILURE', errorType: 'SoftTimeLimitExceeded', runs: 1 },
      hard: { status: 'FAILURE', errorType: 'TimeLimitExceeded', runs: 1 },
      unknown: { status: 'FAILURE', errorType: 'NotRegistered', runs: 0 },
      not_json: { runs: 0 },
      bad_args: { status: 'FAILURE', errorType: 'ValidationError', runs: 0 },
    };
    const wrong: string[] = [];
    for (let i = 0; i < tasks.length; i += 25) {
      await Promise.all(
        tasks.slice(i, i + 25).map(async ({ kind, id, n }) => {
          const want = expected[kind];
          const record = await cloud.store.get(id);
          const got = {
            status: record?.status,
            errorType: record?.errorType,
            runs: runs.get(id) ?? 0,
            retries: record?.retries,
          };
          const mismatch =
            got.runs !== want.runs ||
            got.status !== want.status ||
            (want.errorType !== undefined && got.errorType !== want.errorType) ||
            (want.retries !== undefined && got.retries !== want.retries) ||
            (kind === 'ok' && record?.result !== String(n * 2));
          if (mismatch) wrong.push(`${id}: want ${JSON.stringify(want)}, got ${JSON.stringify(got)}`);
        }),
      );
    }
    expect(wrong.slice(0, 10)).toEqual([]);

    // The DLQ holds exactly the poison messages, each once.
    const deadBodies: string[] = [];
    while (deadBodies.length < poisonCount + 1) {
      const { Messages } = await cloud.clients.sqs.send(
        new ReceiveMessageCommand({
          QueueUrl: queue.dlq.url,
          MaxNumberOfMessages: 10,
          VisibilityTimeout: 300,
          WaitTimeSeconds: 1,
        }),
      );
      if (!Messages?.length) break;
      deadBodies.push(...Messages.map((m) => m.Body ?? ''));
    }
    const poisonBodies = tasks.filter((t) => POISON.has(t.kind)).map((t) => bodyFor(t.kind, t.id, t.n));
    expect(deadBodies.sort()).toEqual(poisonBodies.sort());
  });
});
