import { PutMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { beforeAll, describe, expect, it } from 'vitest';
import { ADMIN_ENTRY } from '../../localstack/lambda/admin-server.ts';
import { AdminTokenEnv } from '../../shared/admin/auth.ts';
import { adminAppFromEnvironment } from '../../shared/admin/environment.ts';
import { controlClientsOf } from '../../shared/aws/control-clients.ts';
import { createLogger } from '../../shared/log.ts';
import { queueNameOfUrl } from '../../shared/ops/oldest-age.ts';
import { defaultRegistry } from '../../shared/task/registry.ts';
import { useEmulator } from '../support/emulator.ts';
import { type ProvisionedStack, provisionStack } from '../support/stack.ts';

useEmulator();

let stack: ProvisionedStack;
let environment: Record<string, string>;

beforeAll(async () => {
  stack = await provisionStack();
  const fn = Object.values(stack.resources.functions).find((f) => f.entry === ADMIN_ENTRY);
  if (!fn) throw new Error('no admin function');
  environment = Object.fromEntries(Object.entries(fn.environment).map(([k, v]) => [k, String(v)]));
});

async function viewerToken(): Promise<string> {
  const { SecretString } = await controlClientsOf(stack.clients).secrets.send(
    new GetSecretValueCommand({ SecretId: environment[AdminTokenEnv.viewer] }),
  );
  return (JSON.parse(String(SecretString)) as { token: string }).token;
}

/**
 * moto publishes no SQS metrics, but its CloudWatch keeps what is put and answers GetMetricData
 * from it: the datapoint SQS would publish is put here by hand, and the admin app built from the
 * function's environment (as the Lambda builds it) shows it.
 */
describe('the queues view with the age of the oldest message, from CloudWatch', () => {
  it('shows the age CloudWatch holds for a route queue, and null for the queues it has none for', async () => {
    const url = stack.config.queues.default?.url as string;
    await controlClientsOf(stack.clients).cloudwatch.send(
      new PutMetricDataCommand({
        Namespace: 'AWS/SQS',
        MetricData: [
          {
            MetricName: 'ApproximateAgeOfOldestMessage',
            Dimensions: [{ Name: 'QueueName', Value: queueNameOfUrl(url) }],
            Timestamp: new Date(Date.now() - 60_000),
            Value: 137,
            Unit: 'Seconds',
          },
        ],
      }),
    );
    const app = adminAppFromEnvironment(environment, {
      clients: stack.clients,
      registry: defaultRegistry,
      logger: createLogger({ component: 'test' }, { write: () => {} }),
    });
    const res = await app.request('/api/queues', {
      headers: { authorization: `Bearer ${await viewerToken()}` },
    });
    expect(res.status).toBe(200);
    const { items } = (await res.json()) as { items: { queue: string; oldestAgeSeconds: number | null }[] };
    const ages = Object.fromEntries(items.map((q) => [q.queue, q.oldestAgeSeconds]));
    expect(ages.default).toBe(137);
    const others = Object.entries(ages).filter(([queue]) => queue !== 'default');
    expect(others.length).toBeGreaterThan(0);
    for (const [, age] of others) expect(age).toBeNull();
  });
});
