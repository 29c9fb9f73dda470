import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../shared/config/config.ts';
import type { OpsContext } from '../../shared/ops/context.ts';
import { revokeTask as revokeOp } from '../../shared/ops/tasks.ts';
import { revokeTask } from '../../shared/results/revoke.ts';
import type { ResultStore } from '../../shared/results/store.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';

/** A Scheduler that refuses every call, as one is for a producer whose policy names no Scheduler action. */
const denied = {
  async send() {
    throw Object.assign(new Error('not authorized to perform: scheduler:ListSchedules'), {
      name: 'AccessDeniedException',
    });
  },
} as unknown as SchedulerClient;

const NOW = new Date('2026-03-01T12:00:00Z');

describe('revoke without the right to read the Scheduler group (an error path)', () => {
  it('still writes the REVOKED row, living the result expiry from now, and says the schedules went unread', async () => {
    const writes: { taskId: string; expiresAt: number }[] = [];
    const store = {
      async revoke(taskId: string, options: { expiresAt: number }) {
        writes.push({ taskId, expiresAt: options.expiresAt });
        return 'revoked' as const;
      },
    } as unknown as ResultStore;
    const outcome = await revokeTask(
      { store, scheduler: () => denied, group: 'delays', resultExpires: 600, now: NOW },
      't-1',
    );
    expect(writes).toEqual([{ taskId: 't-1', expiresAt: NOW.getTime() / 1000 + 600 }]);
    expect(outcome).toMatchObject({ outcome: 'revoked', schedulesUnread: true, deleted: [] });
  });

  it('from the CLI or the admin API: the row written, then OperationFailedError says what may remain', async () => {
    const updates: unknown[] = [];
    const ctx: OpsContext = {
      config: resolveConfig(
        { resultsTable: 'results', scheduler: { groupName: 'delays', roleArn: 'arn:aws:iam::1:role/r' } },
        {},
      ),
      clients: {
        sqs: {} as never,
        dynamo: { send: async (command: { input: unknown }) => updates.push(command.input) } as never,
        scheduler: denied,
      },
      registry: new TaskRegistry(),
      clock: () => NOW,
    };
    await expect(revokeOp(ctx, 't-2')).rejects.toMatchObject({
      name: 'OperationFailedError',
      message: expect.stringContaining('could not be read (access denied)'),
    });
    expect(updates).toHaveLength(1);
  });
});
