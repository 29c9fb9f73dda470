import { beforeAll, inject } from 'vitest';
import { resetAwsClients } from '../../shared/aws/index.ts';
import { resetConfig } from '../../shared/config/index.ts';

/**
 * Points this suite's AWS clients at the emulator the global setup started and gives it a clean
 * slate: moto is reset before the suite; against another emulator, suites rely on fresh names.
 */
export function useEmulator(): { endpoint: string } {
  const endpoint = inject('awsEndpoint');
  process.env.AWS_ENDPOINT_URL = endpoint;
  process.env.AWS_REGION ??= 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID ??= 'test';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'test';
  beforeAll(async () => {
    if (inject('emulatorKind') === 'moto') {
      const response = await fetch(`${endpoint}/moto-api/reset`, { method: 'POST' });
      if (!response.ok) throw new Error(`could not reset moto: HTTP ${response.status}`);
    }
    resetAwsClients();
    resetConfig();
  });
  return { endpoint };
}
