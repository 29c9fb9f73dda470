import { App, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_QUEUES, TASK_ROUTES } from '../../functions/tasks/index.ts';
import { Beat } from '../../infra/constructs/beat.ts';
import { CelerityComponent, CelerityMetadata } from '../../infra/constructs/function.ts';
import { CelerityStack } from '../../infra/stack.ts';
import { synthTemplate } from '../../infra/synth.ts';
import { streamFilterPatterns } from '../../shared/beat/sync-plan.ts';
import { ConfigEnv } from '../../shared/config/env.ts';
import { ValidationError } from '../../shared/errors.ts';
import { defaultRegistry } from '../../shared/task/index.ts';
import { statementsOfFunction as statementsOf } from '../support/iam-template.ts';

type Resource = {
  Type: string;
  Properties: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  DependsOn?: string[];
  DeletionPolicy?: string;
};
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const SYNTH_TIMEOUT_MS = 60_000;
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
const actionsOf = (statement: Statement) => [statement.Action].flat();
const resourcesOf = (statement: Statement) => [statement.Resource].flat().map((r) => JSON.stringify(r));

/** A CloudFormation `Fn::Join` as text, with each token replaced by `TOKEN<n>`. */
function joined(value: unknown): { text: string; tokens: unknown[] } {
  const [separator, parts] = (value as { 'Fn::Join': [string, unknown[]] })['Fn::Join'];
  const tokens: unknown[] = [];
  const text = parts
    .map((part) => (typeof part === 'string' ? part : `TOKEN${tokens.push(part) - 1}`))
    .join(separator);
  return { text, tokens };
}

describe('Beat in the Celerity stack template', () => {
  let template: Template;
  let resources: Record<string, Resource>;
  const one = (type: string, key: string, value: unknown): [string, Resource] => {
    const found = Object.entries(resources).filter(([, r]) => r.Type === type && r.Metadata?.[key] === value);
    expect(found, `${type} with ${key}=${String(value)}`).toHaveLength(1);
    return found[0] as [string, Resource];
  };
  const table = () =>
    one('AWS::DynamoDB::Table', CelerityMetadata.component, CelerityComponent.periodicTasks);
  const group = () =>
    one('AWS::Scheduler::ScheduleGroup', CelerityMetadata.component, CelerityComponent.periodicSchedules);
  const sync = () => one('AWS::Lambda::Function', CelerityMetadata.component, CelerityComponent.beatSync);
  const failureQueue = () =>
    one('AWS::SQS::Queue', CelerityMetadata.failureDestinationOf, CelerityComponent.beatSync);
  const workers = () =>
    Object.values(resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[CelerityMetadata.route] !== undefined,
    );
  const statementsOfFunction = (fn: Resource): Statement[] => statementsOf(resources, fn);
  const groupName = (id: string) => (resources[id] as Resource).Properties.Name as string;
  const schedulesOf = (id: string) => `:schedule/${groupName(id)}/*`;
  const delaysGroupId = () =>
    Object.entries(resources).find(
      ([, r]) =>
        r.Type === 'AWS::Scheduler::ScheduleGroup' && r.Metadata?.[CelerityMetadata.component] === undefined,
    )?.[0] as string;

  beforeAll(() => {
    const json = synthTemplate({ bundling: false });
    template = Template.fromJSON(json);
    resources = json.Resources as Record<string, Resource>;
  }, SYNTH_TIMEOUT_MS);

  it('keeps definitions in an on-demand, streamed, recoverable table, retained, listed by index', () => {
    const [, periodic] = table();
    expect(periodic.DeletionPolicy).toBe('Retain');
    expect(periodic.Properties).toMatchObject({
      KeySchema: [{ AttributeName: 'name', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamViewType: 'NEW_AND_OLD_IMAGES' },
      PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
      SSESpecification: { SSEEnabled: true },
    });
    expect(periodic.Properties.GlobalSecondaryIndexes).toEqual([
      {
        IndexName: 'byName',
        KeySchema: [
          { AttributeName: 'listKey', KeyType: 'HASH' },
          { AttributeName: 'name', KeyType: 'RANGE' },
        ],
        Projection: { ProjectionType: 'ALL' },
      },
    ]);
    expect(periodic.Properties.AttributeDefinitions).toEqual(
      expect.arrayContaining([
        { AttributeName: 'name', AttributeType: 'S' },
        { AttributeName: 'listKey', AttributeType: 'S' },
      ]),
    );
  });

  it('feeds the stream to the sync function, filtered, bisected, with bounded retries and a destination', () => {
    const [tableId] = table();
    const [syncId] = sync();
    const [queueId, queue] = failureQueue();
    const mappings = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::EventSourceMapping' &&
        JSON.stringify(r.Properties.EventSourceArn) === JSON.stringify(getAtt(tableId, 'StreamArn')),
    );
    expect(mappings).toHaveLength(1);
    const mapping = (mappings[0] as Resource).Properties;
    expect(mapping.FunctionName).toEqual({ Ref: syncId });
    // Exactly the patterns the plan defines: a drift here would let run statistics wake the function.
    expect(mapping.FilterCriteria).toEqual(streamFilterPatterns());
    expect(mapping).toMatchObject({
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 100,
      FunctionResponseTypes: ['ReportBatchItemFailures'],
      BisectBatchOnFunctionError: true,
      MaximumRetryAttempts: 5,
      DestinationConfig: { OnFailure: { Destination: getAtt(queueId) } },
    });
    // Under the stream's 24-hour retention, so nothing is trimmed away unreported.
    expect(mapping.MaximumRecordAgeInSeconds).toBeGreaterThanOrEqual(3600);
    expect(mapping.MaximumRecordAgeInSeconds).toBeLessThan(86_400);
    expect(queue.Properties).toMatchObject({
      SqsManagedSseEnabled: true,
      MessageRetentionPeriod: 14 * 86_400,
    });
  });

  it('runs the sync function on Node 22, arm64, with the metadata and environment the runner reads', () => {
    const [tableId] = table();
    const [groupId] = group();
    const [, fn] = sync();
    expect(fn.Properties).toMatchObject({
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      MemorySize: 256,
      Timeout: 300,
    });
    expect(fn.Metadata).toMatchObject({
      [CelerityMetadata.entry]: 'functions/beat-sync.ts',
      [CelerityMetadata.handler]: 'handler',
    });
    const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    // Everything a worker is told but how many bodies it runs at once: the sync function runs none.
    const told = Object.values(ConfigEnv).filter((name) => name !== ConfigEnv.workerConcurrency);
    expect(Object.keys(variables).sort()).toEqual([...told, 'LOG_LEVEL'].sort());
    expect(variables[ConfigEnv.periodicTasksTable]).toEqual({ Ref: tableId });
    expect(variables[ConfigEnv.periodicScheduleGroup]).toBe(groupName(groupId));
    expect(variables[ConfigEnv.timezone]).toBe('UTC');
  });

  it('gives every worker the same Beat environment as the sync function', () => {
    const [, fn] = sync();
    const syncVariables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(workers()).toHaveLength(ROUTE_QUEUES.length);
    for (const worker of workers()) {
      const variables = (worker.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      for (const key of [ConfigEnv.periodicTasksTable, ConfigEnv.periodicScheduleGroup, ConfigEnv.timezone]) {
        expect(variables[key], key).toEqual(syncVariables[key]);
      }
    }
  });

  it('lets the sync function manage only the periodic group, and send only to its failure queue', () => {
    const [tableId] = table();
    const [groupId] = group();
    const [queueId] = failureQueue();
    const statements = statementsOfFunction(sync()[1]);
    const manage = statements.filter((s) => actionsOf(s).includes('scheduler:CreateSchedule'));
    expect(manage).toHaveLength(1);
    expect(actionsOf(manage[0] as Statement).sort()).toEqual([
      'scheduler:CreateSchedule',
      'scheduler:DeleteSchedule',
      'scheduler:GetSchedule',
      'scheduler:UpdateSchedule',
    ]);
    expect(resourcesOf(manage[0] as Statement).join()).toContain(schedulesOf(groupId));
    const list = statements.filter((s) => actionsOf(s).includes('scheduler:ListSchedules'));
    expect(list.map((s) => [actionsOf(s), s.Resource])).toEqual([[['scheduler:ListSchedules'], '*']]);
    const schedulerResources = statements
      .filter((s) => actionsOf(s).some((a) => a.startsWith('scheduler:')))
      .flatMap(resourcesOf)
      .join();
    expect(schedulerResources).not.toContain(groupName(delaysGroupId()));

    const roleId = Object.entries(resources).find(
      ([, r]) =>
        r.Type === 'AWS::IAM::Role' &&
        JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
    )?.[0] as string;
    const pass = statements.filter((s) => actionsOf(s).includes('iam:PassRole'));
    expect(pass.map((s) => s.Resource)).toEqual([getAtt(roleId)]);

    // Lambda sends failed batches under the function's role; nothing else: the schedules deliver.
    const send = statements.filter((s) => actionsOf(s).includes('sqs:SendMessage')).flatMap(resourcesOf);
    expect(send).toEqual([JSON.stringify(getAtt(queueId))]);

    const writes = [
      'dynamodb:PutItem',
      'dynamodb:UpdateItem',
      'dynamodb:DeleteItem',
      'dynamodb:BatchWriteItem',
    ];
    expect(statements.flatMap(actionsOf).filter((a) => writes.includes(a))).toEqual([]);
    // A reconcile scans the table; stream records come through the mapping's own stream grant.
    const reads = statements.filter((s) => resourcesOf(s).some((r) => r.includes(`"${tableId}"`)));
    expect(reads.flatMap(actionsOf).sort()).toEqual([
      'dynamodb:DescribeStream',
      'dynamodb:GetRecords',
      'dynamodb:GetShardIterator',
      'dynamodb:Scan',
    ]);
  });

  it('lets each worker record runs and re-arm schedules, and nothing more of Beat', () => {
    const [tableId] = table();
    const [groupId] = group();
    const tableArn = JSON.stringify(getAtt(tableId));
    for (const worker of workers()) {
      const statements = statementsOfFunction(worker);
      const onTable = statements.filter((s) => resourcesOf(s).some((r) => r.includes(`"${tableId}"`)));
      expect(onTable.flatMap(actionsOf).sort()).toEqual(['dynamodb:GetItem', 'dynamodb:UpdateItem']);
      expect([...new Set(onTable.flatMap(resourcesOf))]).toEqual([tableArn]);
      const onGroup = statements.filter((s) => resourcesOf(s).join().includes(schedulesOf(groupId)));
      expect(onGroup.flatMap(actionsOf)).toEqual(['scheduler:UpdateSchedule']);
    }
  });

  it('reconciles after deploys, asynchronously, once the table, group, function and mapping exist', () => {
    const [tableId] = table();
    const [groupId] = group();
    const [syncId] = sync();
    const [queueId] = failureQueue();
    const found = Object.entries(resources).filter(([, r]) => r.Type === 'Custom::AWS');
    expect(found).toHaveLength(1);
    const [, custom] = found[0] as [string, Resource];
    const calls = { Create: joined(custom.Properties.Create), Update: joined(custom.Properties.Update) };
    let versionId = '';
    for (const [event, { text, tokens }] of Object.entries(calls)) {
      const call = JSON.parse(text);
      expect(call, event).toMatchObject({
        service: 'Lambda',
        action: 'invoke',
        parameters: { FunctionName: 'TOKEN0', InvocationType: 'Event' },
      });
      expect(JSON.parse(call.parameters.Payload), event).toEqual({ action: 'reconcile' });
      // The current version: a new one, hence a new reconcile, whenever the function changes.
      versionId = (tokens[0] as { Ref: string }).Ref;
      expect(resources[versionId]?.Type).toBe('AWS::Lambda::Version');
      expect(resources[versionId]?.Properties.FunctionName).toEqual({ Ref: syncId });
    }
    // Only a create may pass over AccessDenied (nothing to repair yet); an update's failure stops the deploy.
    const create = JSON.parse(calls.Create.text);
    expect(new RegExp(create.ignoreErrorCodesMatching).test('AccessDeniedException')).toBe(true);
    expect(new RegExp(create.ignoreErrorCodesMatching).test('ResourceNotFoundException')).toBe(false);
    expect(JSON.parse(calls.Update.text).ignoreErrorCodesMatching).toBeUndefined();

    const mappingId = Object.entries(resources).find(
      ([, r]) =>
        r.Type === 'AWS::Lambda::EventSourceMapping' &&
        JSON.stringify(r.Properties.FunctionName) === JSON.stringify({ Ref: syncId }),
    )?.[0];
    expect(custom.DependsOn).toEqual(expect.arrayContaining([tableId, groupId, syncId, mappingId]));

    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', {
      FunctionName: { Ref: syncId },
      DestinationConfig: { OnFailure: { Destination: getAtt(queueId) } },
    });
    template.hasResourceProperties('AWS::IAM::Policy', {
      PolicyDocument: {
        Statement: [
          {
            Action: 'lambda:InvokeFunction',
            Effect: 'Allow',
            // The version the call names, not every version of the function.
            Resource: { Ref: versionId },
          },
        ],
      },
    });
  });

  it('names its outputs plainly', () => {
    const [tableId] = table();
    const [groupId] = group();
    const [syncId] = sync();
    const [queueId] = failureQueue();
    const logGroupId = (sync()[1].Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown; Export?: unknown }>;
    const expected: Record<string, unknown> = {
      PeriodicTasksTableName: { Ref: tableId },
      PeriodicScheduleGroupName: groupName(groupId),
      BeatSyncFunctionName: { Ref: syncId },
      BeatSyncLogGroupName: { Ref: logGroupId },
      BeatSyncFailureQueueUrl: { Ref: queueId },
    };
    for (const [name, value] of Object.entries(expected)) {
      expect(outputs[name]?.Value, name).toEqual(value);
      expect(outputs[name]?.Export, name).toBeUndefined();
    }
  });
});

describe('Beat configured', () => {
  const offline = () =>
    new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
  const stackWith = (timezone: string) =>
    new CelerityStack(offline(), 'Zoned', {
      registry: defaultRegistry,
      routeQueues: ROUTE_QUEUES,
      taskRoutes: TASK_ROUTES,
      timezone,
    });

  it('hands the stack timezone to the sync function, the workers and the admin API', () => {
    const stack = stackWith('Europe/Madrid');
    const template = Template.fromStack(stack);
    const functions = template.findResources('AWS::Lambda::Function', {
      Properties: { Environment: { Variables: Match.objectLike({ [ConfigEnv.timezone]: 'Europe/Madrid' }) } },
    });
    // A worker per route, beat-sync, and the admin API (its previews show times in that zone).
    expect(Object.keys(functions)).toHaveLength(ROUTE_QUEUES.length + 2);
  });

  it('refuses a timezone that is not an IANA name, naming the field', () => {
    try {
      stackWith('Europe/Pariss');
      expect.unreachable('a misspelt timezone was accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('timezone');
    }
  });

  it('keeps its table by default, and lets a caller choose otherwise', () => {
    const build = (removalPolicy?: RemovalPolicy) => {
      const stack = new Stack(offline(), 'Standalone');
      const schedulerRole = new Role(stack, 'SchedulerRole', {
        assumedBy: new ServicePrincipal('scheduler.amazonaws.com'),
      });
      new Beat(stack, 'Beat', { schedulerRole, ...(removalPolicy ? { removalPolicy } : {}) });
      return Template.fromStack(stack);
    };
    build().hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    build(RemovalPolicy.DESTROY).hasResource('AWS::DynamoDB::Table', { DeletionPolicy: 'Delete' });
  });
});
