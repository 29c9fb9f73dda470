import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { configure, resetConfig } from '../../shared/config/config.ts';
import type { OpsContext } from '../../shared/ops/context.ts';
import { queueDepths } from '../../shared/ops/queues.ts';
import { scheduledSendsOf } from '../../shared/ops/scheduled.ts';
import { getTaskResult, revokeTask, sendTask } from '../../shared/ops/tasks.ts';
import { createOneTimeSchedule, oneTimeScheduleName } from '../../shared/producer/one-time-schedule.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import { useEmulator } from '../support/emulator.ts';
import { type ProvisionedStack, provisionStack } from '../support/stack.ts';

useEmulator();

const DAY = 86_400_000;
let stack: ProvisionedStack;
let ctx: OpsContext;
let queues: [string, string];

beforeAll(async () => {
  stack = await provisionStack();
  ctx = { config: stack.config, clients: stack.clients, registry: new TaskRegistry() };
  queues = Object.keys(stack.config.queues).slice(0, 2) as [string, string];
  expect(stack.config.scheduler?.groupName).toBeTruthy();
});

function farEta(days: number): Date {
  const eta = new Date(Date.now() + days * DAY);
  eta.setUTCMilliseconds(0);
  return eta;
}

/** A schedule as the producer makes it, for a task id and attempt of the test's choosing. */
function schedule(taskId: string, retries: number, queue: string, eta: Date) {
  const { arn } = stack.config.queues[queue] as { arn: string };
  return createOneTimeSchedule(
    stack.clients.scheduler,
    stack.config.scheduler as NonNullable<typeof stack.config.scheduler>,
    {
      taskId,
      retries,
      when: eta,
      queueArn: arn,
      body: JSON.stringify({ v: 1, id: taskId, task: 'tests.far.run', retries }),
    },
  );
}

describe('a task with a far eta waits in a one-time schedule (issue #9 finding 4)', () => {
  it('result says it is scheduled (eta, schedule, queue) instead of never sent', async () => {
    const eta = farEta(3);
    const sent = await sendTask(ctx, {
      task: 'tests.far.report',
      taskId: 'far-result-1',
      args: [7],
      queue: queues[0],
      eta,
    });
    expect(sent.via).toBe('scheduler');
    const view = await getTaskResult(ctx, 'far-result-1');
    expect(view).toMatchObject({
      taskId: 'far-result-1',
      status: 'PENDING',
      taskName: 'tests.far.report',
      args: [7],
      queue: queues[0],
      eta: eta.toISOString(),
      scheduled: {
        schedule: oneTimeScheduleName('far-result-1', 0),
        retries: 0,
        eta: eta.toISOString(),
        queue: queues[0],
      },
    });
    // An id nothing holds is still not found.
    await expect(getTaskResult(ctx, 'far-result-none')).rejects.toMatchObject({ name: 'NotFoundError' });
  });

  it('revoke deletes its one-time schedule and keeps the REVOKED row until after the eta', async () => {
    const eta = farEta(5);
    await sendTask(ctx, { task: 'tests.far.report', taskId: 'far-revoke-1', queue: queues[0], eta });
    expect(await scheduledSendsOf(ctx, 'far-revoke-1')).toHaveLength(1);

    const revoked = await revokeTask(ctx, 'far-revoke-1');
    expect(revoked).toMatchObject({
      status: 'REVOKED',
      deletedSchedules: [oneTimeScheduleName('far-revoke-1', 0)],
    });
    expect(await scheduledSendsOf(ctx, 'far-revoke-1')).toEqual([]);
    const { Item } = await stack.clients.dynamo.send(
      new GetCommand({ TableName: stack.config.resultsTable, Key: { taskId: 'far-revoke-1' } }),
    );
    // Past the eta by the result expiry, not a day from now: a send that fires anyway finds it.
    expect(Item?.status).toBe('REVOKED');
    expect((Item?.expiresAt as number) * 1000).toBeGreaterThanOrEqual(
      eta.getTime() + stack.config.resultExpires * 1000,
    );
    expect((await getTaskResult(ctx, 'far-revoke-1')).status).toBe('REVOKED');
  });

  it('AsyncResult.revoke() of a far-eta task does as revokeTask: its schedule deleted, its row outliving the eta', async () => {
    const report = defineTask('tests.far.app_revoke', () => 'ran');
    configure(stack.config);
    try {
      const eta = farEta(3);
      const result = await report.applyAsync({ eta, queue: queues[0] });
      expect(await scheduledSendsOf(ctx, result.id)).toHaveLength(1);
      await result.revoke();
      expect(await scheduledSendsOf(ctx, result.id)).toEqual([]);
      const { Item } = await stack.clients.dynamo.send(
        new GetCommand({ TableName: stack.config.resultsTable, Key: { taskId: result.id } }),
      );
      expect(Item?.status).toBe('REVOKED');
      expect((Item?.expiresAt as number) * 1000).toBeGreaterThanOrEqual(
        eta.getTime() + stack.config.resultExpires * 1000,
      );
    } finally {
      resetConfig();
    }
  });

  it("revoke deletes a retry's schedule and every attempt's, and never another task's", async () => {
    const eta = farEta(2);
    const ids = ['job-1', 'job-10', 'job-1-r0', 'job 1 with spaces', `long-${'x'.repeat(80)}`];
    for (const id of ids) await schedule(id, 0, queues[0], eta);
    await schedule('job-1', 3, queues[0], farEta(4));
    await schedule(`long-${'x'.repeat(80)}`, 12, queues[0], eta);

    const revoked = await revokeTask(ctx, 'job-1');
    expect(revoked.deletedSchedules).toEqual([
      oneTimeScheduleName('job-1', 0),
      oneTimeScheduleName('job-1', 3),
    ]);
    expect(Date.parse(revoked.expiresAt)).toBeGreaterThanOrEqual(farEta(4).getTime());
    for (const other of ['job-10', 'job-1-r0', 'job 1 with spaces']) {
      expect(
        (await scheduledSendsOf(ctx, other)).map((s) => s.schedule),
        other,
      ).toEqual([oneTimeScheduleName(other, 0)]);
    }
    const long = await revokeTask(ctx, `long-${'x'.repeat(80)}`);
    expect(long.deletedSchedules).toHaveLength(2);
    expect((await revokeTask(ctx, 'job 1 with spaces')).deletedSchedules).toEqual([
      oneTimeScheduleName('job 1 with spaces', 0),
    ]);
  });

  it('inspect queues counts scheduled sends per route queue, paging through every schedule', async () => {
    const before = await queueDepths(ctx);
    const eta = farEta(1);
    // More than one page of ListSchedules (moto gives 50, AWS up to 100).
    for (let i = 0; i < 130; i++) await schedule(`count-${i}`, 0, queues[i % 3 === 0 ? 1 : 0], eta);
    const after = await queueDepths(ctx);
    const added = (queue: string) =>
      (after.find((q) => q.queue === queue)?.scheduled ?? 0) -
      (before.find((q) => q.queue === queue)?.scheduled ?? 0);
    expect(added(queues[0])).toBe(86);
    expect(added(queues[1])).toBe(44);
    for (const q of after) expect(q).toMatchObject({ visible: 0, delayed: 0, scheduled: expect.any(Number) });
    // Where each queue and its DLQ are, for a producer that is not this app (docs/envelope.md).
    for (const q of after) {
      const target = stack.config.queues[q.queue];
      expect(q).toMatchObject({ url: target?.url, arn: target?.arn });
      expect(q.dlq?.url).toMatch(/^http/);
      expect(q.dlq?.arn).toMatch(/^arn:aws:sqs:/);
      expect(q.dlq?.url).not.toBe(q.url);
    }
  });
});
