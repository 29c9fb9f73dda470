import { beforeAll, inject } from 'vitest';
import { resetEmulator } from '../../localstack/emulator.ts';
import { resetAwsClients } from '../../shared/aws/index.ts';

/**
 * Points this suite's AWS clients at the emulator the global setup started and gives it a clean
 * slate: moto (or LocalStack) is reset before the suite.
 */
export function useEmulator(): { endpoint: string } {
  // Files on one vitest worker run one after another, so each worker may own an emulator.
  const endpoints = inject('awsEndpoints') ?? [inject('awsEndpoint')];
  const pool = Number(process.env.VITEST_POOL_ID ?? 1);
  const endpoint = endpoints[(pool - 1) % endpoints.length] as string;
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  beforeAll(async () => {
    const reset = await resetEmulator(endpoint);
    if (inject('emulatorKind') === 'moto' && reset !== 'moto')
      throw new Error(`could not reset moto at ${endpoint}`);
    // Clients made before this point would keep pointing wherever they were made for.
    resetAwsClients();
  });
  return { endpoint };
}
