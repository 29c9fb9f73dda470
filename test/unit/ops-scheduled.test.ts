import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../shared/config/index.ts';
import type { OpsContext } from '../../shared/ops/context.ts';
import { getTaskResult } from '../../shared/ops/tasks.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';

/** A context whose DynamoDB holds one PENDING row and whose Scheduler answers with `scheduler`. */
function context(scheduler: () => Promise<unknown>): OpsContext {
  const config = resolveConfig(
    {
      queues: { default: { url: 'http://q/default', arn: 'arn:aws:sqs:us-east-1:1:default' } },
      resultsTable: 'results',
      scheduler: { groupName: 'one-time', roleArn: 'arn:aws:iam::1:role/s' },
    },
    {},
  );
  const row = { taskId: 't-1', status: 'PENDING', taskName: 'apps.x.run' };
  return {
    config,
    registry: new TaskRegistry(),
    clients: {
      dynamo: { send: async () => ({ Item: row }) },
      scheduler: { send: scheduler },
      sqs: {},
    } as unknown as OpsContext['clients'],
  };
}

function denied(): Promise<never> {
  const error = new Error('User is not authorized to perform: scheduler:ListSchedules');
  error.name = 'AccessDeniedException';
  return Promise.reject(error);
}

describe("a task's result when the Scheduler cannot be read", () => {
  it('reads the row as it is without Scheduler permission', async () => {
    const view = await getTaskResult(context(denied), 't-1');
    expect(view).toMatchObject({ taskId: 't-1', status: 'PENDING' });
    expect(view.scheduled).toBeUndefined();
  });

  it('lets any other Scheduler error through', async () => {
    const broken = () =>
      Promise.reject(Object.assign(new Error('boom'), { name: 'InternalServerException' }));
    await expect(getTaskResult(context(broken), 't-1')).rejects.toThrow('boom');
  });
});
