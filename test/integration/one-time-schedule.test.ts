import {
  CreateScheduleGroupCommand,
  GetScheduleCommand,
  ListSchedulesCommand,
} from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../shared/aws/index.ts';
import { resolveConfig } from '../../shared/config/index.ts';
import {
  createOneTimeSchedule,
  EnqueueError,
  oneTimeScheduleName,
  Producer,
  ScheduleConflictError,
} from '../../shared/producer/index.ts';
import { useEmulator } from '../support/emulator.ts';

const { endpoint } = useEmulator();
const GROUP = 'celerity-delayed';
const ROLE = 'arn:aws:iam::123456789012:role/scheduler';
const eta = new Date(Date.now() + 3 * 3_600_000);
eta.setUTCMilliseconds(0);

let clients: AwsClients;
let producer: Producer;
let queueArn: string;

async function schedules(): Promise<string[]> {
  const { Schedules } = await clients.scheduler.send(new ListSchedulesCommand({ GroupName: GROUP }));
  return (Schedules ?? []).map((s) => s.Name as string).sort();
}

async function scheduledId(name: string): Promise<string> {
  const schedule = await clients.scheduler.send(new GetScheduleCommand({ Name: name, GroupName: GROUP }));
  return (JSON.parse(schedule.Target?.Input ?? '{}') as { id: string }).id;
}

beforeAll(async () => {
  clients = createAwsClients({ endpoint, region: 'us-east-1' });
  await clients.scheduler.send(new CreateScheduleGroupCommand({ Name: GROUP }));
  const url = (await clients.sqs.send(new CreateQueueCommand({ QueueName: 'delayed-default' })))
    .QueueUrl as string;
  const attributes = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  queueArn = attributes.Attributes?.QueueArn as string;
  const config = resolveConfig(
    { queues: { default: { url, arn: queueArn } }, scheduler: { groupName: GROUP, roleArn: ROLE } },
    {},
  );
  producer = new Producer({ config, sqs: clients.sqs, scheduler: clients.scheduler });
});

describe('delayed tasks beyond 15 minutes, as one-time schedules in moto', () => {
  it('keeps ids that sanitise alike apart: job:1 and job_1 are two schedules', async () => {
    const sent = await producer.sendMany([
      { task: 'apps.jobs.run', taskId: 'job:1', eta },
      { task: 'apps.jobs.run', taskId: 'job_1', eta },
    ]);
    expect(sent.map((s) => s.via)).toEqual(['scheduler', 'scheduler']);
    const names = [oneTimeScheduleName('job:1', 0), oneTimeScheduleName('job_1', 0)];
    expect(names[0]).not.toBe(names[1]);
    expect(await schedules()).toEqual([...names].sort());
    expect([await scheduledId(names[0] as string), await scheduledId(names[1] as string)]).toEqual([
      'job:1',
      'job_1',
    ]);
  });

  it('makes one schedule of the same call sent twice', async () => {
    const call = { task: 'apps.jobs.run', taskId: 'twice-1', args: [1], eta };
    await producer.send(call);
    await producer.send(call);
    expect((await schedules()).filter((n) => n.includes('twice-1'))).toEqual([
      oneTimeScheduleName('twice-1', 0),
    ]);
  });

  it('refuses a reused id with a different body, by name, and keeps the first schedule', async () => {
    await producer.send({ task: 'apps.jobs.run', taskId: 'reused-1', args: ['first'], eta });
    const error = await producer
      .send({ task: 'apps.jobs.run', taskId: 'reused-1', args: ['second'], eta })
      .catch((e) => e);
    expect(error).toBeInstanceOf(EnqueueError);
    expect((error as EnqueueError).failed).toEqual([
      {
        index: 0,
        taskId: 'reused-1',
        permanent: true,
        errorType: 'ScheduleConflict',
        reason: expect.stringMatching(/already scheduled/),
      },
    ]);
    expect((error as EnqueueError).cause).toBeInstanceOf(ScheduleConflictError);
    expect((error as EnqueueError).cause).toMatchObject({ taskId: 'reused-1' });
    const name = oneTimeScheduleName('reused-1', 0);
    const kept = await clients.scheduler.send(new GetScheduleCommand({ Name: name, GroupName: GROUP }));
    expect(JSON.parse(kept.Target?.Input ?? '{}').args).toEqual(['first']);

    await expect(
      createOneTimeSchedule(
        clients.scheduler,
        { groupName: GROUP, roleArn: ROLE },
        { taskId: 'reused-1', retries: 0, when: eta, queueArn, body: '{"v":1,"id":"reused-1"}' },
      ),
    ).rejects.toBeInstanceOf(ScheduleConflictError);
  });
});
