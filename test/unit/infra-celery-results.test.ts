import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_QUEUES } from '../../functions/tasks/index.ts';
import { CelerityMetadata } from '../../infra/constructs/function.ts';
import { synthTemplate } from '../../infra/synth.ts';
import { resolveConfig } from '../../shared/config/config.ts';
import { ConfigEnv } from '../../shared/config/env.ts';
import { environmentOfOutputs, readStackOutputs, StackOutput } from '../../shared/config/stack-outputs.ts';
import { statementsOfFunction, type TemplateResource } from '../support/iam-template.ts';

const SYNTH_TIMEOUT_MS = 60_000;

describe("LabControl's stack with celeryResults on", () => {
  let template: Record<string, unknown>;
  let resources: Record<string, TemplateResource>;
  let tableId: string;

  beforeAll(() => {
    template = synthTemplate({ bundling: false, validate: false });
    resources = template.Resources as Record<string, TemplateResource>;
    const tables = Object.entries(resources).filter(
      ([, r]) =>
        r.Type === 'AWS::DynamoDB::Table' &&
        JSON.stringify(r.Properties.KeySchema) === JSON.stringify([{ AttributeName: 'id', KeyType: 'HASH' }]),
    );
    expect(tables).toHaveLength(1);
    tableId = (tables[0] as [string, TemplateResource])[0];
  }, SYNTH_TIMEOUT_MS);

  it("defines a table in Celery's layout: keyed id (S) alone, TTL on Celery's ttl", () => {
    const table = resources[tableId] as TemplateResource;
    expect(table.Properties.AttributeDefinitions).toEqual([{ AttributeName: 'id', AttributeType: 'S' }]);
    expect(table.Properties.TimeToLiveSpecification).toEqual({ AttributeName: 'ttl', Enabled: true });
    expect(table.Properties.BillingMode).toBe('PAY_PER_REQUEST');
    expect(table.Properties.GlobalSecondaryIndexes).toBeUndefined();
  });

  it('tells every worker where it is, grants them PutItem on it, and no other function anything', () => {
    const ref = JSON.stringify({ Ref: tableId });
    const arn = JSON.stringify({ 'Fn::GetAtt': [tableId, 'Arn'] });
    const functions = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::Lambda::Function');
    const workers = new Set(
      ROUTE_QUEUES.map(
        (route) => functions.find(([, r]) => r.Metadata?.[CelerityMetadata.route] === route)?.[0] as string,
      ),
    );
    expect(workers.size).toBe(ROUTE_QUEUES.length);
    for (const [id, fn] of functions) {
      const env = (fn.Properties.Environment as { Variables?: Record<string, unknown> } | undefined)
        ?.Variables;
      const onTable = statementsOfFunction(resources, fn).filter((s) =>
        [s.Resource].flat().some((r) => JSON.stringify(r) === arn),
      );
      if (workers.has(id)) {
        expect(JSON.stringify(env?.[ConfigEnv.celeryResultsTable])).toBe(ref);
        expect(onTable.flatMap((s) => [s.Action].flat())).toEqual(['dynamodb:PutItem']);
      } else {
        expect(onTable, `function ${id} on the Celery results table`).toEqual([]);
      }
    }
  });

  it('names the table in an output, for the Celery app and the CLI', () => {
    const outputs = template.Outputs as Record<string, { Value: unknown }>;
    expect(outputs[StackOutput.celeryResultsTable]?.Value).toEqual({ Ref: tableId });
    // Read back by the CLI (DescribeStacks) as the worker's own setting.
    const env = environmentOfOutputs(
      readStackOutputs({ [StackOutput.celeryResultsTable]: 'Celerity-CeleryResultsTable-X' }),
    );
    expect(env[ConfigEnv.celeryResultsTable]).toBe('Celerity-CeleryResultsTable-X');
    expect(resolveConfig({}, env).celeryResultsTable).toBe('Celerity-CeleryResultsTable-X');
  });
});
