import { describe, expect, it } from 'vitest';
import { configFrom } from '../../cli/target.ts';
import { configure } from '../../shared/config/config.ts';
import { environmentOfOutputs, readStackOutputs, routeOutputKey } from '../../shared/config/stack-outputs.ts';

describe('stack outputs, read as the stack writes them (shared/config/stack-outputs.ts)', () => {
  const outputs = {
    RouteQueues: JSON.stringify(['notifications', 'bulk-email']),
    QueueUrlNotifications: 'https://sqs/notifications',
    QueueArnNotifications: 'arn:aws:sqs:eu-west-1:1:notifications',
    DlqUrlNotifications: 'https://sqs/notifications-dlq',
    WorkerLogGroupNameNotifications: '/aws/lambda/notifications',
    QueueUrlBulkEmail: 'https://sqs/bulk-email',
    QueueArnBulkEmail: 'arn:aws:sqs:eu-west-1:1:bulk-email',
    ResultsTableName: 'results',
    PeriodicTasksTableName: 'periodic',
    PeriodicScheduleGroupName: 'group',
    SchedulerGroupName: 'delays',
    SchedulerRoleArn: 'arn:role',
    BeatSyncLogGroupName: '/aws/lambda/beat-sync',
  };

  it('name routes from the RouteQueues output, not from descriptions, a hyphenated name too', () => {
    const read = readStackOutputs(outputs);
    expect(read.routes).toEqual({
      notifications: {
        queueUrl: 'https://sqs/notifications',
        queueArn: 'arn:aws:sqs:eu-west-1:1:notifications',
        dlqUrl: 'https://sqs/notifications-dlq',
        workerLogGroup: '/aws/lambda/notifications',
      },
      'bulk-email': { queueUrl: 'https://sqs/bulk-email', queueArn: 'arn:aws:sqs:eu-west-1:1:bulk-email' },
    });
    expect(routeOutputKey('queueUrl', 'bulk-email')).toBe('QueueUrlBulkEmail');
  });

  it('become the environment a worker is given', () => {
    const env = environmentOfOutputs(readStackOutputs(outputs));
    expect(JSON.parse(env.CELERITY_QUEUES as string)).toEqual({
      notifications: { url: 'https://sqs/notifications', arn: 'arn:aws:sqs:eu-west-1:1:notifications' },
      'bulk-email': { url: 'https://sqs/bulk-email', arn: 'arn:aws:sqs:eu-west-1:1:bulk-email' },
    });
    expect(env).toMatchObject({
      CELERITY_RESULTS_TABLE: 'results',
      CELERITY_PERIODIC_TASKS_TABLE: 'periodic',
      CELERITY_PERIODIC_SCHEDULE_GROUP: 'group',
      CELERITY_SCHEDULER_GROUP: 'delays',
      CELERITY_SCHEDULER_ROLE_ARN: 'arn:role',
    });
  });

  it('of a stack deployed before RouteQueues still give its one-word routes', () => {
    const { RouteQueues: _listed, ...older } = outputs;
    expect(Object.keys(readStackOutputs(older).routes)).toEqual(['notifications', 'bulkEmail']);
  });
});

describe("a target's configuration (functionConfig)", () => {
  const environment = {
    CELERITY_QUEUES: '{}',
    CELERITY_TIMEZONE: 'Asia/Tokyo',
    CELERITY_WORKER_CONCURRENCY: '3',
    UNRELATED: 'x',
  };

  it("is made as the function makes its own: the environment's settings, then the app's configure() calls", () => {
    expect(configFrom(environment)).toMatchObject({ timezone: 'Asia/Tokyo', workerConcurrency: 3 });
    configure({ alwaysEager: true, timezone: 'Europe/London', resultExpires: 600 });
    try {
      expect(configFrom(environment)).toMatchObject({
        timezone: 'Europe/London',
        workerConcurrency: 3,
        resultExpires: 600,
        // The caller's own test setting is not the function's.
        alwaysEager: false,
      });
    } finally {
      configure({ alwaysEager: false, timezone: 'UTC', resultExpires: 86_400 });
    }
  });
});
