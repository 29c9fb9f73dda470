import { Match, Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { LabControlEnv, ROUTE_QUEUES, TASK_ROUTES } from '../../functions/tasks/index.ts';
import { CelerityComponent, CelerityMetadata } from '../../infra/constructs/function.ts';
import { synthTemplate } from '../../infra/synth.ts';
import { ConfigEnv } from '../../shared/config/env.ts';
import { environmentOfOutputs, readStackOutputs } from '../../shared/config/stack-outputs.ts';
import { defaultRegistry, routeTask } from '../../shared/task/index.ts';
import { INVOCATION_OVERHEAD_SECONDS, resolveTaskOptions } from '../../shared/task/options.ts';

/** Every resource of this template has properties, so they are not optional here. */
type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };
type Statement = { Action: string | string[]; Resource: unknown; Effect: string };

const SYNTH_TIMEOUT_MS = 60_000;
const getAtt = (id: string) => ({ 'Fn::GetAtt': [id, 'Arn'] });

/** What a worker's timeout should be, worked out here from the registry rather than from infra/. */
function expectedTimeout(route: string): number {
  const limits = defaultRegistry
    .list()
    .filter((task) => routeTask(task.name, TASK_ROUTES, task.options.queue, 'default') === route)
    .map((task) => task.options.timeLimit);
  const longest = limits.length > 0 ? Math.max(...limits) : resolveTaskOptions('probe').timeLimit;
  return Math.min(900, Math.ceil(longest) + INVOCATION_OVERHEAD_SECONDS);
}

describe('the Celerity stack template', () => {
  let template: Template;
  let resources: Record<string, Resource>;
  const byMetadata = (type: string, key: string, value: unknown): [string, Resource] => {
    const found = Object.entries(resources).filter(([, r]) => r.Type === type && r.Metadata?.[key] === value);
    expect(found, `${type} with ${key}=${String(value)}`).toHaveLength(1);
    return found[0] as [string, Resource];
  };

  beforeAll(() => {
    const json = synthTemplate({ bundling: false });
    template = Template.fromJSON(json);
    resources = json.Resources as Record<string, Resource>;
  }, SYNTH_TIMEOUT_MS);

  it('has a queue and a DLQ per route, the scheduler DLQ and the Beat sync failure queue, all SQS-encrypted', () => {
    template.resourceCountIs('AWS::SQS::Queue', ROUTE_QUEUES.length * 2 + 2);
    for (const queue of Object.values(template.findResources('AWS::SQS::Queue'))) {
      expect(queue.Properties.SqsManagedSseEnabled).toBe(true);
    }
    byMetadata('AWS::SQS::Queue', CelerityMetadata.schedulerDlq, true);
    byMetadata('AWS::SQS::Queue', CelerityMetadata.failureDestinationOf, CelerityComponent.beatSync);
    for (const route of ROUTE_QUEUES) {
      const [dlqId, dlq] = byMetadata('AWS::SQS::Queue', CelerityMetadata.dlqOf, route);
      const [, queue] = byMetadata('AWS::SQS::Queue', CelerityMetadata.route, route);
      expect(dlq.Properties.MessageRetentionPeriod).toBe(14 * 86_400);
      expect(queue.Properties.RedrivePolicy).toEqual({
        deadLetterTargetArn: getAtt(dlqId),
        maxReceiveCount: 5,
      });
    }
  });

  it('gives each worker the timeout its tasks need, and its queue six times that', () => {
    for (const route of ROUTE_QUEUES) {
      const [, fn] = byMetadata('AWS::Lambda::Function', CelerityMetadata.route, route);
      const [, queue] = byMetadata('AWS::SQS::Queue', CelerityMetadata.route, route);
      expect(fn.Properties.Timeout, route).toBe(expectedTimeout(route));
      expect(queue.Properties.VisibilityTimeout, route).toBe(6 * expectedTimeout(route));
    }
  });

  it('drains each queue with its own worker in batches, reporting partial failures', () => {
    // One more: the periodic-tasks table's stream (test/unit/infra-beat.test.ts).
    template.resourceCountIs('AWS::Lambda::EventSourceMapping', ROUTE_QUEUES.length + 1);
    for (const route of ROUTE_QUEUES) {
      const [fnId] = byMetadata('AWS::Lambda::Function', CelerityMetadata.route, route);
      const [queueId] = byMetadata('AWS::SQS::Queue', CelerityMetadata.route, route);
      const heavy = route === 'heavy';
      template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
        EventSourceArn: getAtt(queueId),
        FunctionName: { Ref: fnId },
        FunctionResponseTypes: ['ReportBatchItemFailures'],
        BatchSize: heavy ? 1 : 100,
        MaximumBatchingWindowInSeconds: heavy ? 0 : 1,
        ScalingConfig: { MaximumConcurrency: heavy ? 5 : 10 },
      });
    }
  });

  it('shapes the heavy route for process_large_file: one message at a time on one full vCPU', () => {
    const [, heavy] = byMetadata('AWS::Lambda::Function', CelerityMetadata.route, 'heavy');
    const variables = (heavy.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    expect(heavy.Properties.MemorySize).toBe(1769);
    expect(variables[ConfigEnv.workerConcurrency]).toBe('1');
    // The light routes keep running a whole batch at once.
    for (const route of ['default', 'notifications']) {
      const [, fn] = byMetadata('AWS::Lambda::Function', CelerityMetadata.route, route);
      const env = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(fn.Properties.MemorySize, route).toBe(512);
      expect(env[ConfigEnv.workerConcurrency], route).toBe('100');
    }
  });

  it('runs workers on Node 22, arm64, with the metadata and environment the runner reads', () => {
    const functions = Object.values(resources).filter(
      (r) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[CelerityMetadata.route] !== undefined,
    );
    expect(functions).toHaveLength(ROUTE_QUEUES.length);
    for (const fn of functions) {
      expect(fn.Properties).toMatchObject({ Runtime: 'nodejs22.x', Architectures: ['arm64'] });
      expect(fn.Metadata).toMatchObject({
        [CelerityMetadata.entry]: 'functions/worker.ts',
        [CelerityMetadata.handler]: 'handler',
      });
      const variables = (fn.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
      expect(Object.keys(variables).sort()).toEqual(
        [...Object.values(ConfigEnv), ...Object.values(LabControlEnv), 'LOG_LEVEL'].sort(),
      );
      expect(variables.LOG_LEVEL).toBe('info');
      // No --enable-source-maps: it costs cold starts; the bundle keeps names instead.
      expect(variables.NODE_OPTIONS).toBeUndefined();
      // Every route queue, by name, so retries and routing can reach any of them.
      const queues = JSON.stringify(variables[ConfigEnv.queues]);
      for (const route of ROUTE_QUEUES) expect(queues).toContain(`\\"${route}\\":{\\"url\\"`);
    }
  });

  it('keeps results in an on-demand table with TTL and point-in-time recovery, retained', () => {
    template.hasResource('AWS::DynamoDB::Table', {
      DeletionPolicy: 'Retain',
      Properties: Match.objectLike({
        KeySchema: [{ AttributeName: 'taskId', KeyType: 'HASH' }],
        BillingMode: 'PAY_PER_REQUEST',
        TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
        PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
        SSESpecification: { SSEEnabled: true },
      }),
    });
    template.hasResourceProperties('AWS::DynamoDB::Table', {
      KeySchema: [{ AttributeName: 'key', KeyType: 'HASH' }],
      BillingMode: 'PAY_PER_REQUEST',
      TimeToLiveSpecification: { AttributeName: 'expiresAt', Enabled: true },
    });
  });

  it('has a schedule group for delayed tasks and another for periodic ones', () => {
    template.resourceCountIs('AWS::Scheduler::ScheduleGroup', 2);
    byMetadata(
      'AWS::Scheduler::ScheduleGroup',
      CelerityMetadata.component,
      CelerityComponent.periodicSchedules,
    );
  });

  it('names its outputs plainly, with no exports, and the CLI reads every route and resource back', () => {
    const outputs = template.toJSON().Outputs as Record<string, { Value: unknown; Export?: unknown }>;
    for (const output of Object.values(outputs)) expect(output.Export).toBeUndefined();
    // What DescribeStacks would give, with each reference standing for the resource it names.
    const stand = (value: unknown): string => {
      if (typeof value === 'string') return value;
      const v = value as { Ref?: string; 'Fn::GetAtt'?: [string, string] };
      if (v.Ref) return `ref:${v.Ref}`;
      if (v['Fn::GetAtt']) return `${v['Fn::GetAtt'][1]}:${v['Fn::GetAtt'][0]}`;
      return JSON.stringify(value);
    };
    const read = readStackOutputs(
      Object.fromEntries(Object.entries(outputs).map(([key, o]) => [key, stand(o.Value)])),
    );
    expect(Object.keys(read.routes).sort()).toEqual([...ROUTE_QUEUES].sort());
    for (const route of ROUTE_QUEUES) {
      const [queueId] = byMetadata('AWS::SQS::Queue', CelerityMetadata.route, route);
      const [dlqId] = byMetadata('AWS::SQS::Queue', CelerityMetadata.dlqOf, route);
      const [workerId] = byMetadata('AWS::Lambda::Function', CelerityMetadata.route, route);
      expect(read.routes[route]).toMatchObject({
        queueUrl: `ref:${queueId}`,
        queueArn: `Arn:${queueId}`,
        dlqUrl: `ref:${dlqId}`,
        dlqArn: `Arn:${dlqId}`,
        workerFunction: `ref:${workerId}`,
      });
      expect(read.routes[route]?.workerLogGroup).toMatch(/^ref:/);
    }
    const [periodicId] = byMetadata(
      'AWS::DynamoDB::Table',
      CelerityMetadata.component,
      CelerityComponent.periodicTasks,
    );
    const [syncId] = byMetadata(
      'AWS::Lambda::Function',
      CelerityMetadata.component,
      CelerityComponent.beatSync,
    );
    expect(read.values).toMatchObject({
      periodicTasksTable: `ref:${periodicId}`,
      beatSyncFunction: `ref:${syncId}`,
    });
    // Every resource location a worker is given, the CLI finds among the outputs.
    const env = environmentOfOutputs(read);
    const { timezone: _zone, workerConcurrency: _concurrency, ...locations } = ConfigEnv;
    expect(Object.keys(env).sort()).toEqual(Object.values(locations).sort());
    expect(Object.keys(JSON.parse(env[ConfigEnv.queues] as string)).sort()).toEqual([...ROUTE_QUEUES].sort());
  });

  describe('IAM', () => {
    const statementsOf = (policy: Resource): Statement[] =>
      (policy.Properties.PolicyDocument as { Statement: Statement[] }).Statement;
    const actionsOf = (statement: Statement) => [statement.Action].flat();
    const policiesOfRole = (roleId: string) =>
      Object.values(resources).filter(
        (r) =>
          r.Type === 'AWS::IAM::Policy' &&
          ((r.Properties.Roles ?? []) as unknown[]).some(
            (ref) => JSON.stringify(ref) === JSON.stringify({ Ref: roleId }),
          ),
      );
    const schedulerRoleId = () => {
      const roles = Object.entries(template.findResources('AWS::IAM::Role')).filter(([, role]) =>
        JSON.stringify(role.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
      );
      expect(roles).toHaveLength(1);
      return (roles[0] as [string, unknown])[0];
    };

    it('grants no wildcard actions in any policy or inline role policy', () => {
      const statements: Statement[] = [];
      for (const policy of Object.values(template.findResources('AWS::IAM::Policy'))) {
        statements.push(...statementsOf(policy as Resource));
      }
      for (const role of Object.values(template.findResources('AWS::IAM::Role'))) {
        for (const inline of (role.Properties.Policies ?? []) as {
          PolicyDocument: { Statement: Statement[] };
        }[]) {
          statements.push(...inline.PolicyDocument.Statement);
        }
      }
      expect(statements.length).toBeGreaterThan(0);
      for (const action of statements.flatMap(actionsOf)) {
        expect(action).not.toBe('*');
        expect(action).not.toMatch(/^[a-z0-9-]+:\*$/);
        expect(action).not.toContain('*');
      }
    });

    it('lets the scheduler role send to the task queues and its DLQ, and nothing else', () => {
      const roleId = schedulerRoleId();
      const role = resources[roleId] as Resource;
      expect(role.Properties.ManagedPolicyArns).toBeUndefined();
      expect(role.Properties.Policies).toBeUndefined();
      const statements = policiesOfRole(roleId).flatMap(statementsOf);
      const actions = new Set(statements.flatMap(actionsOf));
      expect(actions.has('sqs:SendMessage')).toBe(true);
      // grantSendMessages also adds the two reads that locate a queue; a CMK would add kms actions.
      for (const action of actions) {
        expect(['sqs:SendMessage', 'sqs:GetQueueAttributes', 'sqs:GetQueueUrl']).toContain(action);
      }
      const allowed = [
        getAtt(byMetadata('AWS::SQS::Queue', CelerityMetadata.schedulerDlq, true)[0]),
        ...ROUTE_QUEUES.map((route) =>
          getAtt(byMetadata('AWS::SQS::Queue', CelerityMetadata.route, route)[0]),
        ),
      ].map((arn) => JSON.stringify(arn));
      const granted = new Set(statements.flatMap((s) => [s.Resource].flat().map((r) => JSON.stringify(r))));
      expect([...granted].sort()).toEqual([...allowed].sort());
    });

    it('lets each worker create schedules only in the group, passing only the scheduler role', () => {
      const roleId = schedulerRoleId();
      for (const route of ROUTE_QUEUES) {
        const [, fn] = byMetadata('AWS::Lambda::Function', CelerityMetadata.route, route);
        const workerRoleId = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
        const statements = policiesOfRole(workerRoleId).flatMap(statementsOf);
        const create = statements.filter((s) => actionsOf(s).includes('scheduler:CreateSchedule'));
        expect(create).toHaveLength(1);
        expect(JSON.stringify(create[0]?.Resource)).toMatch(/:schedule\/[^"]+\/\*"/);
        const pass = statements.filter((s) => actionsOf(s).includes('iam:PassRole'));
        expect(pass.map((s) => s.Resource)).toEqual([getAtt(roleId)]);
        const sendTo = statements
          .filter((s) => actionsOf(s).includes('sqs:SendMessage'))
          .flatMap((s) => [s.Resource].flat().map((r) => JSON.stringify(r)));
        for (const other of ROUTE_QUEUES) {
          const [queueId] = byMetadata('AWS::SQS::Queue', CelerityMetadata.route, other);
          expect(sendTo).toContain(JSON.stringify(getAtt(queueId)));
        }
      }
    });
  });
});
