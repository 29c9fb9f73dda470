import { beforeAll, describe, expect, it } from 'vitest';
import { CelerityComponent, CelerityMetadata } from '../../infra/constructs/function.ts';
import { synthTemplate } from '../../infra/synth.ts';
import { AdminTokenEnv } from '../../shared/admin/auth.ts';
import { StackOutput } from '../../shared/config/stack-outputs.ts';
import {
  type PolicyStatementJson,
  statementsOfFunction,
  type TemplateResource,
} from '../support/iam-template.ts';

const SYNTH_TIMEOUT_MS = 60_000;
let resources: Record<string, TemplateResource>;
let outputs: Record<string, { Value: unknown }>;
let admin: TemplateResource;
let statements: PolicyStatementJson[];

const actionsOf = (s: PolicyStatementJson) => [s.Action].flat();
const idOf = (value: unknown) => JSON.stringify(value);

beforeAll(() => {
  const template = synthTemplate({ bundling: false, validate: false }) as {
    Resources: Record<string, TemplateResource>;
    Outputs: Record<string, { Value: unknown }>;
  };
  resources = template.Resources;
  outputs = template.Outputs;
  const found = Object.values(resources).find(
    (r) =>
      r.Type === 'AWS::Lambda::Function' &&
      r.Metadata?.[CelerityMetadata.component] === CelerityComponent.admin,
  );
  if (!found) throw new Error('no admin function in the template');
  admin = found;
  statements = statementsOfFunction(resources, admin);
}, SYNTH_TIMEOUT_MS);

describe('the admin API in the stack', () => {
  it('is a Node 22 arm64 Lambda behind a function URL with no IAM auth and no CORS', () => {
    expect(admin.Properties.Runtime).toBe('nodejs22.x');
    expect(admin.Properties.Architectures).toEqual(['arm64']);
    const urls = Object.values(resources).filter((r) => r.Type === 'AWS::Lambda::Url');
    expect(urls).toHaveLength(1);
    expect(urls[0]?.Properties.AuthType).toBe('NONE');
    expect(urls[0]?.Properties.Cors).toBeUndefined();
  });

  it('names its token secrets by ARN in its environment, and the secrets are generated, not written', () => {
    const env = (admin.Properties.Environment as { Variables: Record<string, unknown> }).Variables;
    const secrets = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret');
    expect(secrets).toHaveLength(2);
    for (const [id, secret] of secrets) {
      expect(secret.Properties.SecretString).toBeUndefined();
      expect(secret.Properties.GenerateSecretString).toMatchObject({ GenerateStringKey: 'token' });
      expect([idOf(env[AdminTokenEnv.admin]), idOf(env[AdminTokenEnv.viewer])]).toContain(idOf({ Ref: id }));
    }
  });

  it('has no wildcard action, no Scan, and reads only its own two secrets', () => {
    const actions = statements.flatMap(actionsOf);
    expect(actions.filter((a) => a.includes('*'))).toEqual([]);
    expect(actions).not.toContain('dynamodb:Scan');
    const secretIds = Object.entries(resources)
      .filter(([, r]) => r.Type === 'AWS::SecretsManager::Secret')
      .map(([id]) => idOf({ Ref: id }));
    const secretReads = statements.filter((s) => actionsOf(s).includes('secretsmanager:GetSecretValue'));
    expect(secretReads.flatMap((s) => [s.Resource].flat().map(idOf)).sort()).toEqual(secretIds.sort());
  });

  it("queries the periodic-tasks table's index and never touches the rate-limit table", () => {
    const resourcesOf = (action: string) =>
      statements.filter((s) => actionsOf(s).includes(action)).flatMap((s) => [s.Resource].flat().map(idOf));
    expect(resourcesOf('dynamodb:Query').some((r) => r.includes('/index/byName'))).toBe(true);
    const rateLimit = Object.keys(resources).find((id) => id.includes('RateLimitTable'));
    expect(JSON.stringify(statements)).not.toContain(String(rateLimit));
  });

  it('puts its URL and the secrets in the outputs, and no token value anywhere in the template', () => {
    expect(Object.keys(outputs)).toEqual(
      expect.arrayContaining([
        StackOutput.adminUrl,
        StackOutput.adminTokenSecretArn,
        StackOutput.viewerTokenSecretArn,
      ]),
    );
    expect(JSON.stringify(outputs[StackOutput.adminUrl]?.Value)).toContain('FunctionUrl');
  });
});

describe("the admin API's grant to read the queues' oldest-message age", () => {
  it('allows cloudwatch:GetMetricData, on * (it has no resource type), in a policy that holds nothing else', () => {
    const reads = statements.filter((s) => actionsOf(s).includes('cloudwatch:GetMetricData'));
    expect(reads).toHaveLength(1);
    expect(reads[0]).toMatchObject({ Effect: 'Allow', Action: 'cloudwatch:GetMetricData', Resource: '*' });
    const policies = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::IAM::Policy' &&
        JSON.stringify(r.Properties.PolicyDocument).includes('cloudwatch:GetMetricData'),
    );
    expect(policies).toHaveLength(1);
    const document = policies[0]?.Properties.PolicyDocument as { Statement: unknown[] } | undefined;
    expect(document?.Statement).toHaveLength(1);
  });

  it('is the only CloudWatch action the admin API has, and no other function has it', () => {
    expect(statements.flatMap(actionsOf).filter((a) => a.startsWith('cloudwatch:'))).toEqual([
      'cloudwatch:GetMetricData',
    ]);
    const granted = Object.values(resources).filter(
      (r) =>
        r.Type === 'AWS::Lambda::Function' &&
        r.Metadata?.[CelerityMetadata.component] !== CelerityComponent.admin &&
        statementsOfFunction(resources, r).some((s) => actionsOf(s).includes('cloudwatch:GetMetricData')),
    );
    expect(granted).toEqual([]);
  });
});
