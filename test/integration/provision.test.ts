import { DescribeTableCommand, DescribeTimeToLiveCommand } from '@aws-sdk/client-dynamodb';
import { GetScheduleGroupCommand } from '@aws-sdk/client-scheduler';
import { GetQueueAttributesCommand, ListQueuesCommand } from '@aws-sdk/client-sqs';
import { beforeAll, describe, expect, it } from 'vitest';
import { configFrom } from '../../cli/target.ts';
import { synthTemplate } from '../../infra/synth.ts';
import { startLocalCloud } from '../../localstack/local-cloud.ts';
import { provision } from '../../localstack/provision/provision.ts';
import { physicalName } from '../../localstack/provision/template.ts';
import { type AwsClients, createAwsClients } from '../../shared/aws/index.ts';
import {
  type CelerityConfig,
  configure,
  HANDED_ON_SETTINGS,
  resolveConfig,
} from '../../shared/config/index.ts';
import { useEmulator } from '../support/emulator.ts';

const REGION = 'us-east-1';
const { endpoint } = useEmulator();
let clients: AwsClients;

beforeAll(() => {
  clients = createAwsClients({ endpoint, region: REGION });
});

const arn = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/** A hand-written template of the stack's shape: one route, its DLQ, both tables, a worker and its mapping. */
const fixture = {
  Parameters: {
    BootstrapVersion: {
      Type: 'AWS::SSM::Parameter::Value<String>',
      Default: '/cdk-bootstrap/hnb659fds/version',
    },
  },
  Resources: {
    DefaultDlqA1: {
      Type: 'AWS::SQS::Queue',
      Properties: { MessageRetentionPeriod: 1209600 },
      Metadata: { 'celerity:dlqOf': 'default' },
    },
    DefaultQueueB2: {
      Type: 'AWS::SQS::Queue',
      Properties: {
        VisibilityTimeout: 180,
        MaximumMessageSize: 262144,
        DelaySeconds: 0,
        RedrivePolicy: { deadLetterTargetArn: arn('DefaultDlqA1'), maxReceiveCount: 3 },
      },
      Metadata: { 'celerity:route': 'default' },
    },
    ResultsTableC3: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        KeySchema: [{ AttributeName: 'taskId', KeyType: 'HASH' }],
        AttributeDefinitions: [
          { AttributeName: 'taskId', AttributeType: 'S' },
          { AttributeName: 'status', AttributeType: 'S' },
          { AttributeName: 'dateDone', AttributeType: 'S' },
        ],
        BillingMode: 'PAY_PER_REQUEST',
        GlobalSecondaryIndexes: [
          {
            IndexName: 'byStatus',
            KeySchema: [
              { AttributeName: 'status', KeyType: 'HASH' },
              { AttributeName: 'dateDone', KeyType: 'RANGE' },
            ],
            Projection: { ProjectionType: 'ALL' },
          },
        ],
        StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        SSESpecification: { SSEEnabled: true },
      },
    },
    RateLimitTableD4: {
      Type: 'AWS::DynamoDB::Table',
      Properties: {
        KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
        AttributeDefinitions: [{ AttributeName: 'key', AttributeType: 'S' }],
        ProvisionedThroughput: { ReadCapacityUnits: 2, WriteCapacityUnits: 2 },
      },
    },
    GroupE5: { Type: 'AWS::Scheduler::ScheduleGroup', Properties: { Name: 'fixture-delays' } },
    SchedulerRoleF6: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
    WorkerRoleG7: { Type: 'AWS::IAM::Role', Properties: { AssumeRolePolicyDocument: {} } },
    WorkerH8: {
      Type: 'AWS::Lambda::Function',
      Properties: {
        // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
        Code: { S3Bucket: { 'Fn::Sub': 'cdk-assets-${AWS::AccountId}-${AWS::Region}' }, S3Key: 'x.zip' },
        Handler: 'index.handler',
        Role: arn('WorkerRoleG7'),
        Timeout: 30,
        MemorySize: 256,
        Environment: {
          Variables: {
            CELERITY_QUEUES: {
              'Fn::Join': [
                '',
                ['{"default":{"url":"', { Ref: 'DefaultQueueB2' }, '","arn":"', arn('DefaultQueueB2'), '"}}'],
              ],
            },
            CELERITY_RESULTS_TABLE: { Ref: 'ResultsTableC3' },
            CELERITY_RATE_LIMIT_TABLE: { Ref: 'RateLimitTableD4' },
            CELERITY_SCHEDULER_GROUP: { Ref: 'GroupE5' },
            CELERITY_SCHEDULER_ROLE_ARN: arn('SchedulerRoleF6'),
            CELERITY_SCHEDULER_DLQ_ARN: arn('DefaultDlqA1'),
            RESULTS_STREAM: { 'Fn::GetAtt': ['ResultsTableC3', 'StreamArn'] },
            // biome-ignore lint/suspicious/noTemplateCurlyInString: CloudFormation's Fn::Sub syntax
            WHERE: { 'Fn::Sub': ['${AWS::Region}/${Name}/${DefaultQueueB2.QueueName}', { Name: 'x' }] },
            FIRST: { 'Fn::Select': [1, { 'Fn::Split': [',', 'a,b,c'] }] },
            LOG_LEVEL: 'info',
          },
        },
      },
      Metadata: { 'celerity:entry': 'functions/worker.ts', 'celerity:handler': 'handler' },
    },
    WorkerMappingI9: {
      Type: 'AWS::Lambda::EventSourceMapping',
      Properties: {
        EventSourceArn: arn('DefaultQueueB2'),
        FunctionName: { Ref: 'WorkerH8' },
        BatchSize: 100,
        MaximumBatchingWindowInSeconds: 1,
        ScalingConfig: { MaximumConcurrency: 4 },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
      },
    },
  },
};

async function queueAttributes(url: string): Promise<Record<string, string>> {
  const response = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] }),
  );
  return response.Attributes ?? {};
}

describe('provisioning a hand-written template', () => {
  it('creates queues, tables and groups and resolves every reference', async () => {
    const out = await provision(fixture, { clients, stackName: 'Fixture', region: REGION });
    const queue = out.queuesByRoute.default;
    const dlq = out.queues.DefaultDlqA1;
    expect(queue?.dlq?.arn).toBe(dlq?.arn);
    expect(queue).toMatchObject({ maxReceiveCount: 3, visibilityTimeoutSeconds: 180, fifo: false });
    expect(dlq?.dlqOf).toBe('default');
    const attributes = await queueAttributes(queue?.url as string);
    expect(JSON.parse(attributes.RedrivePolicy as string)).toMatchObject({ deadLetterTargetArn: dlq?.arn });
    expect(attributes).toMatchObject({
      VisibilityTimeout: '180',
      MaximumMessageSize: '262144',
      DelaySeconds: '0',
    });
    expect((await queueAttributes(dlq?.url as string)).MessageRetentionPeriod).toBe('1209600');

    const results = out.tables.ResultsTableC3;
    const table = await clients.dynamo.send(new DescribeTableCommand({ TableName: results?.name }));
    expect(table.Table?.KeySchema).toEqual([{ AttributeName: 'taskId', KeyType: 'HASH' }]);
    expect(table.Table?.GlobalSecondaryIndexes?.[0]?.IndexName).toBe('byStatus');
    expect(table.Table?.StreamSpecification).toMatchObject({
      StreamEnabled: true,
      StreamViewType: 'NEW_AND_OLD_IMAGES',
    });
    expect(results?.streamArn).toBe(table.Table?.LatestStreamArn);
    const ttl = await clients.dynamo.send(new DescribeTimeToLiveCommand({ TableName: results?.name }));
    expect(ttl.TimeToLiveDescription).toMatchObject({
      AttributeName: 'expiresAt',
      TimeToLiveStatus: 'ENABLED',
    });
    const rate = await clients.dynamo.send(
      new DescribeTableCommand({ TableName: out.tables.RateLimitTableD4?.name }),
    );
    expect(rate.Table?.ProvisionedThroughput?.ReadCapacityUnits).toBe(2);
    await clients.scheduler.send(new GetScheduleGroupCommand({ Name: 'fixture-delays' }));

    const fn = out.functions.WorkerH8;
    expect(fn).toMatchObject({
      entry: 'functions/worker.ts',
      handler: 'handler',
      timeoutSeconds: 30,
      memoryMb: 256,
    });
    const env = fn?.environment ?? {};
    expect(JSON.parse(env.CELERITY_QUEUES as string)).toEqual({
      default: { url: queue?.url, arn: queue?.arn },
    });
    expect(env.CELERITY_RESULTS_TABLE).toBe(results?.name);
    expect(env.CELERITY_SCHEDULER_GROUP).toBe('fixture-delays');
    expect(env.CELERITY_SCHEDULER_ROLE_ARN).toMatch(
      /^arn:aws:iam::123456789012:role\/Fixture-SchedulerRoleF6-/,
    );
    expect(env.CELERITY_SCHEDULER_DLQ_ARN).toBe(dlq?.arn);
    expect(env.RESULTS_STREAM).toBe(results?.streamArn);
    expect(env.WHERE).toBe(`${REGION}/x/${queue?.name}`);
    expect(env.FIRST).toBe('b');
    expect(resolveConfig({}, env).queues.default?.url).toBe(queue?.url);

    expect(out.eventSourceMappings).toEqual([
      {
        logicalId: 'WorkerMappingI9',
        eventSourceArn: queue?.arn,
        queueLogicalId: 'DefaultQueueB2',
        functionLogicalId: 'WorkerH8',
        batchSize: 100,
        maximumBatchingWindowSeconds: 1,
        maximumConcurrency: 4,
        functionResponseTypes: ['ReportBatchItemFailures'],
        enabled: true,
      },
    ]);
    expect(out.skipped.map((s) => s.type).sort()).toEqual(['AWS::IAM::Role', 'AWS::IAM::Role']);
  });

  it('is idempotent: a second run finds the same resources and creates nothing', async () => {
    const first = await provision(fixture, { clients, stackName: 'Again', region: REGION });
    const count = async () =>
      (await clients.sqs.send(new ListQueuesCommand({ QueueNamePrefix: 'Again-' }))).QueueUrls?.length;
    expect(await count()).toBe(2);
    const second = await provision(fixture, { clients, stackName: 'Again', region: REGION });
    expect(second).toEqual(first);
    expect(await count()).toBe(2);
  });

  it('refuses an intrinsic it cannot resolve, naming where it is', async () => {
    const bad = {
      Resources: {
        Q: { Type: 'AWS::SQS::Queue', Properties: { QueueName: { 'Fn::ImportValue': 'elsewhere' } } },
      },
    };
    await expect(provision(bad, { clients, stackName: 'Bad', region: REGION })).rejects.toThrow(
      /Q\.QueueName\.Fn::ImportValue: intrinsic Fn::ImportValue is not supported/,
    );
  });

  it('derives stable names within each service limit', () => {
    const long = 'A'.repeat(120);
    const queue = physicalName('Stack', long, 'AWS::SQS::Queue', true);
    expect(queue.length).toBeLessThanOrEqual(80);
    expect(queue).toMatch(/^Stack-A+-[0-9A-F]{12}\.fifo$/);
    expect(physicalName('Stack', long, 'AWS::SQS::Queue', true)).toBe(queue);
    expect(physicalName('Other', long, 'AWS::SQS::Queue', true)).not.toBe(queue);
    expect(physicalName('S'.repeat(100), long, 'AWS::Lambda::Function').length).toBeLessThanOrEqual(64);
  });
});

describe('the app settings a function is handed (HANDED_ON_SETTINGS)', () => {
  it('are the same in the local cloud and the CLI: the timezone too, where the environment names none', async () => {
    // The fixture's worker environment has no CELERITY_TIMEZONE: the app's timezone must reach both.
    configure({ timezone: 'Europe/London', resultExpires: 600, poisonRetryDelay: 30 });
    const cloud = await startLocalCloud({
      template: fixture,
      stackName: 'Settings',
      endpoint,
      logLevel: 'silent',
      applyToProcess: false,
    });
    try {
      const fromCli = configFrom(cloud.workers[0]?.function.environment ?? {});
      for (const config of [cloud.config, fromCli]) {
        expect(config).toMatchObject({ timezone: 'Europe/London', resultExpires: 600, poisonRetryDelay: 30 });
      }
      const settings = (config: CelerityConfig) =>
        Object.fromEntries(HANDED_ON_SETTINGS.map((name) => [name, config[name]]));
      expect(settings(cloud.config)).toEqual(settings(fromCli));
    } finally {
      await cloud.stop();
      configure({ timezone: 'UTC', resultExpires: 86_400, poisonRetryDelay: 15 });
    }
  });
});

describe('the synthesized stack', () => {
  let template: Record<string, unknown>;
  beforeAll(() => {
    template = synthTemplate({ bundling: false, stackName: 'Synth' });
  });

  it('provisions every route with its DLQ, both tables, and a worker per route', async () => {
    const out = await provision(template, { clients, stackName: 'Synth', region: REGION });
    expect(Object.keys(out.queuesByRoute).sort()).toEqual(['default', 'heavy', 'notifications']);
    // Three routes with their DLQs, the scheduler's DLQ, and Beat's sync failure queue.
    expect(Object.keys(out.queues)).toHaveLength(8);
    for (const queue of Object.values(out.queuesByRoute)) {
      expect(queue.dlq?.arn).toMatch(/^arn:aws:sqs:us-east-1:123456789012:/);
      expect(queue.maxReceiveCount).toBeGreaterThan(0);
      const attributes = await queueAttributes(queue.url);
      expect(JSON.parse(attributes.RedrivePolicy as string).deadLetterTargetArn).toBe(queue.dlq?.arn);
    }
    const ttl = await Promise.all(
      Object.values(out.tables).map(
        async (t) =>
          (await clients.dynamo.send(new DescribeTimeToLiveCommand({ TableName: t.name })))
            .TimeToLiveDescription?.AttributeName,
      ),
    );
    // Results, rate limits, periodic tasks, Celery's result layout, and LabControl's users,
    // appointments, notifications, studies.
    expect(ttl).toHaveLength(8);
    expect(ttl).toContain('expiresAt');
    // Celery's own TTL attribute on the table in Celery's layout.
    expect(ttl).toContain('ttl');
    const workers = Object.values(out.functions).filter((f) => f.entry === 'functions/worker.ts');
    expect(workers).toHaveLength(3);
    for (const fn of workers) {
      const config = resolveConfig({}, fn.environment);
      expect(Object.keys(config.queues).sort()).toEqual(['default', 'heavy', 'notifications']);
      expect(config.queues.heavy?.url).toBe(out.queuesByRoute.heavy?.url);
      expect(Object.values(out.tables).map((t) => t.name)).toContain(config.resultsTable);
      expect(Object.values(out.tables).map((t) => t.name)).toContain(config.celeryResultsTable);
      expect(config.scheduler?.roleArn).toMatch(/^arn:aws:iam::123456789012:role\//);
    }
    expect(out.eventSourceMappings).toHaveLength(4);
    for (const mapping of out.eventSourceMappings) {
      expect(mapping.functionResponseTypes).toContain('ReportBatchItemFailures');
    }
    expect(out.eventSourceMappings.filter((m) => m.queueLogicalId)).toHaveLength(3);
    const beat = out.eventSourceMappings.find((m) => m.tableLogicalId);
    expect(beat?.filterCriteria).toBeDefined();
    expect(beat?.onFailure?.queueLogicalId).toBeDefined();
    expect(out.functions[beat?.functionLogicalId as string]?.entry).toBe('functions/beat-sync.ts');
    expect(await provision(template, { clients, stackName: 'Synth', region: REGION })).toEqual(out);
  });

  it('runs as a local cloud: a task sent by the producer is run by its route worker', async () => {
    const cloud = await startLocalCloud({
      template,
      stackName: 'Synth',
      endpoint,
      logLevel: 'silent',
      overrides: { waitTimeSeconds: 1, visibilityTimeoutSeconds: 5 },
    });
    try {
      expect(cloud.workers.map((w) => w.queue.route).sort()).toEqual(['default', 'heavy', 'notifications']);
      const sent = await cloud.producer.send({ task: 'apps.demo.tasks.add', args: [2, 3] });
      const started = Date.now();
      let record = await cloud.store.get(sent.taskId);
      while (record?.status !== 'SUCCESS' && Date.now() - started < 15_000) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        record = await cloud.store.get(sent.taskId);
      }
      expect(record).toMatchObject({ status: 'SUCCESS', result: '5' });
      expect(cloud.stats().default?.invocations).toBeGreaterThan(0);
    } finally {
      await cloud.stop();
    }
    expect(cloud.workers.every((w) => !w.poller.running && w.poller.stats.inFlight === 0)).toBe(true);
  });
});
