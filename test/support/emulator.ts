import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, inject } from 'vitest';
import { resetEmulator } from '../../localstack/emulator/emulator.ts';
import { resetAwsClients } from '../../shared/aws/index.ts';

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/**
 * Takes one of the emulators the global setup started, for this file alone: a lease file made
 * with O_EXCL (taken over if its holder has died), released after the file's tests. Files run
 * in parallel, each on its own emulator, whatever worker runs them.
 */
function leaseEmulator(): { endpoint: string; release: () => void } {
  const endpoints = inject('awsEndpoints');
  const dir = inject('emulatorLeaseDir');
  for (let attempt = 0; attempt < 2; attempt++) {
    for (const [index, endpoint] of endpoints.entries()) {
      const file = join(dir, String(index));
      try {
        writeFileSync(file, String(process.pid), { flag: 'wx' });
        return { endpoint, release: () => unlinkSync(file) };
      } catch {
        const holder = Number(readFileSync(file, 'utf8'));
        if (holder && !alive(holder)) unlinkSync(file);
      }
    }
  }
  throw new Error(`all ${endpoints.length} test emulators are in use; raise CELERITY_TEST_EMULATORS`);
}

/**
 * Points this suite's AWS clients at an emulator of its own (moto; or the one LocalStack given
 * by AWS_ENDPOINT_URL, which suites then take turns on) and gives it a clean slate first.
 */
export function useEmulator(): { endpoint: string } {
  const { endpoint, release } = leaseEmulator();
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
  afterAll(release);
  return { endpoint };
}
