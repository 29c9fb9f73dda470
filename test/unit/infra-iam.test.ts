import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_QUEUES } from '../../functions/tasks/index.ts';
import { WORKER_PERIODIC_ATTRIBUTES } from '../../infra/constructs/beat.ts';
import { CelerityComponent, CelerityMetadata } from '../../infra/constructs/function.ts';
import { synthTemplate } from '../../infra/synth.ts';
import { PeriodicTaskStore } from '../../shared/beat/store.ts';
import {
  type PolicyStatementJson,
  statementsOfFunction as statementsOf,
  type TemplateResource,
} from '../support/iam-template.ts';

type Resource = TemplateResource;
type Statement = PolicyStatementJson;

const SYNTH_TIMEOUT_MS = 60_000;
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
const actionsOf = (statement: Statement) => [statement.Action].flat();
const resourcesOf = (statement: Statement) => [statement.Resource].flat().map((r) => JSON.stringify(r));

/** The words of DynamoDB's expression grammar, as opposed to attribute names. */
const GRAMMAR = new Set(
  [
    'SET',
    'REMOVE',
    'ADD',
    'DELETE',
    'AND',
    'OR',
    'NOT',
    'IN',
    'BETWEEN',
    'attribute_exists',
    'attribute_not_exists',
    'attribute_type',
    'if_not_exists',
    'list_append',
    'begins_with',
    'contains',
    'size',
  ].map((word) => word.toLowerCase()),
);

/** Every top-level attribute an UpdateItem request names: key, update and condition. */
function attributesNamed(input: {
  Key: Record<string, unknown>;
  UpdateExpression?: string;
  ConditionExpression?: string;
  ExpressionAttributeNames?: Record<string, string>;
}): string[] {
  const names = new Set(Object.keys(input.Key));
  const text = `${input.UpdateExpression ?? ''} ${input.ConditionExpression ?? ''}`;
  for (const token of text.match(/[#:]?[A-Za-z_][A-Za-z0-9_]*/g) ?? []) {
    if (token.startsWith(':')) continue;
    if (token.startsWith('#')) names.add(input.ExpressionAttributeNames?.[token] as string);
    else if (!GRAMMAR.has(token.toLowerCase())) names.add(token);
  }
  return [...names];
}

describe('what the workers may do', () => {
  let resources: Record<string, Resource>;
  const one = (type: string, key: string, value: unknown): string => {
    const found = Object.entries(resources).filter(([, r]) => r.Type === type && r.Metadata?.[key] === value);
    expect(found, `${type} with ${key}=${String(value)}`).toHaveLength(1);
    return (found[0] as [string, Resource])[0];
  };
  const tableWithKey = (attribute: string) =>
    Object.entries(resources).find(
      ([, r]) =>
        r.Type === 'AWS::DynamoDB::Table' &&
        JSON.stringify(r.Properties.KeySchema) ===
          JSON.stringify([{ AttributeName: attribute, KeyType: 'HASH' }]),
    )?.[0] as string;
  const statementsOfFunction = (fnId: string): Statement[] =>
    statementsOf(resources, resources[fnId] as Resource);
  const workerIds = () =>
    ROUTE_QUEUES.map((route) => one('AWS::Lambda::Function', CelerityMetadata.route, route));
  const on = (statements: Statement[], tableId: string) =>
    statements.filter((s) => resourcesOf(s).some((r) => r.includes(`"${tableId}"`)));

  beforeAll(() => {
    resources = synthTemplate({ bundling: false, validate: false }).Resources as Record<string, Resource>;
  }, SYNTH_TIMEOUT_MS);

  it('writes results and rate-limit windows with conditional puts and updates only, reads results by key: no scan, batch write or delete', () => {
    const results = tableWithKey('taskId');
    const rateLimits = tableWithKey('key');
    for (const fnId of workerIds()) {
      const statements = statementsOfFunction(fnId);
      expect(on(statements, results).flatMap(actionsOf)).toEqual([
        'dynamodb:BatchGetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ]);
      expect(on(statements, results).flatMap(resourcesOf)).toEqual([JSON.stringify(getAtt(results))]);
      expect(on(statements, rateLimits).flatMap(actionsOf)).toEqual(['dynamodb:UpdateItem']);
      // Nowhere, on any table: LabControl's bulk tasks batch-write their own table and no other.
      const actions = statements.flatMap(actionsOf);
      for (const never of ['dynamodb:Scan', 'dynamodb:DeleteItem', 'dynamodb:DescribeTable']) {
        expect(actions, never).not.toContain(never);
      }
      const batchWrites = statements.filter((s) => actionsOf(s).includes('dynamodb:BatchWriteItem'));
      expect(batchWrites.flatMap(resourcesOf)).toEqual([
        JSON.stringify(
          getAtt(Object.keys(resources).find((id) => id.startsWith('LabControlDataNotifications')) as string),
        ),
      ]);
      // The one wildcard: ListSchedules, which has no resource type (its call names the group).
      for (const statement of statements) {
        if (statement.Resource === '*')
          expect(actionsOf(statement), JSON.stringify(statement)).toEqual(['scheduler:ListSchedules']);
      }
    }
  });

  it('updates a periodic task only in its run-statistics attributes, under an IAM condition', () => {
    const periodic = one('AWS::DynamoDB::Table', CelerityMetadata.component, CelerityComponent.periodicTasks);
    for (const fnId of workerIds()) {
      const updates = on(statementsOfFunction(fnId), periodic).filter((s) =>
        actionsOf(s).includes('dynamodb:UpdateItem'),
      );
      expect(updates).toHaveLength(1);
      expect(updates[0]?.Condition).toEqual({
        'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...WORKER_PERIODIC_ATTRIBUTES] },
        StringEqualsIfExists: {
          'dynamodb:ReturnValues': ['NONE', 'UPDATED_OLD', 'UPDATED_NEW'],
          'dynamodb:Select': 'SPECIFIC_ATTRIBUTES',
        },
      });
    }
    // Not the schedule, the task, its arguments or its queue: what Beat would apply.
    for (const field of ['task', 'schedule', 'crontab', 'interval', 'args', 'kwargs', 'queue', 'expires']) {
      expect(WORKER_PERIODIC_ATTRIBUTES as readonly string[]).not.toContain(field);
    }
  });

  it("allows every attribute the worker's own periodic-task updates name, so the condition never refuses them", async () => {
    const sent: Parameters<typeof attributesNamed>[0][] = [];
    const dynamo = {
      send: async (command: { input: Parameters<typeof attributesNamed>[0] }) => {
        sent.push(command.input);
        return {};
      },
    } as unknown as DynamoDBDocumentClient;
    const store = new PeriodicTaskStore({ dynamo, table: 'periodic' });
    await store.recordRuns([{ name: 'nightly', count: 2, lastRunAt: '2026-01-01T00:00:00.000Z' }]);
    await store.disableOneOff('once');
    expect(sent).toHaveLength(2);
    for (const input of sent) {
      for (const attribute of attributesNamed(input)) {
        expect(WORKER_PERIODIC_ATTRIBUTES as readonly string[], attribute).toContain(attribute);
      }
    }
  });

  it('may read one-time schedules back in the delayed group, and pass the scheduler role to the Scheduler only', () => {
    const delays = Object.entries(resources).find(
      ([, r]) =>
        r.Type === 'AWS::Scheduler::ScheduleGroup' && r.Metadata?.[CelerityMetadata.component] === undefined,
    )?.[0] as string;
    const delaysName = (resources[delays] as Resource).Properties.Name as string;
    for (const fnId of workerIds()) {
      const statements = statementsOfFunction(fnId);
      const onDelays = statements.filter((s) => resourcesOf(s).join().includes(`:schedule/${delaysName}/*`));
      // Create for far etas, Get to tell a repeat from a clash, Delete for a revoke of a far eta.
      expect(onDelays.flatMap(actionsOf).sort()).toEqual([
        'scheduler:CreateSchedule',
        'scheduler:DeleteSchedule',
        'scheduler:GetSchedule',
        'scheduler:GetSchedule',
      ]);
      const pass = statements.filter((s) => actionsOf(s).includes('iam:PassRole'));
      expect(pass).toHaveLength(1);
      expect(pass[0]?.Condition).toEqual({
        StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' },
      });
    }
  });

  it('lets the sync function only scan the periodic table, never read or write single rows', () => {
    const syncId = one('AWS::Lambda::Function', CelerityMetadata.component, CelerityComponent.beatSync);
    const periodic = one('AWS::DynamoDB::Table', CelerityMetadata.component, CelerityComponent.periodicTasks);
    const onTable = statementsOfFunction(syncId).filter((s) =>
      resourcesOf(s).includes(JSON.stringify(getAtt(periodic))),
    );
    expect(onTable.flatMap(actionsOf)).toEqual(['dynamodb:Scan']);
  });

  it('lets a function write only to its own log group, with no managed policy', () => {
    const functions = Object.entries(resources).filter(
      ([, r]) => r.Type === 'AWS::Lambda::Function' && r.Metadata?.[CelerityMetadata.entry] !== undefined,
    );
    expect(functions.length).toBe(ROUTE_QUEUES.length + 2); // the workers, beat sync and the admin API
    for (const [fnId, fn] of functions) {
      const roleId = (fn.Properties.Role as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
      expect(resources[roleId]?.Properties.ManagedPolicyArns, fnId).toBeUndefined();
      const logs = statementsOfFunction(fnId).filter((s) => actionsOf(s).some((a) => a.startsWith('logs:')));
      const logGroup = (fn.Properties.LoggingConfig as { LogGroup: { Ref: string } }).LogGroup.Ref;
      expect(logs.flatMap(resourcesOf), fnId).toEqual([JSON.stringify(getAtt(logGroup))]);
    }
  });
});

describe('who may assume the scheduler role', () => {
  it("only EventBridge Scheduler, for this account's two schedule groups", () => {
    const resources = synthTemplate({ bundling: false, validate: false }).Resources as Record<
      string,
      Resource
    >;
    const roles = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::IAM::Role' &&
        JSON.stringify(r.Properties.AssumeRolePolicyDocument).includes('scheduler.amazonaws.com'),
    );
    expect(roles).toHaveLength(1);
    const trust = ((roles[0] as Resource).Properties.AssumeRolePolicyDocument as { Statement: Statement[] })
      .Statement;
    expect(trust).toHaveLength(1);
    const groups = Object.keys(resources).filter(
      (id) => resources[id]?.Type === 'AWS::Scheduler::ScheduleGroup',
    );
    expect(groups).toHaveLength(2);
    expect(trust[0]?.Condition).toEqual({
      StringEquals: {
        'aws:SourceAccount': { Ref: 'AWS::AccountId' },
        'aws:SourceArn': expect.arrayContaining(groups.map((id) => getAtt(id))),
      },
    });
    const condition = (trust[0] as Statement).Condition as { StringEquals: Record<string, unknown[]> };
    expect(condition.StringEquals['aws:SourceArn']).toHaveLength(2);
  });
});
