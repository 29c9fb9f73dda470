import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { type Emulator, startEmulator } from '../../localstack/emulator/emulator.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    awsEndpoint: string;
    /** One emulator per vitest worker (moto), or the one given (AWS_ENDPOINT_URL). */
    awsEndpoints: string[];
    /** Where suites lease an emulator each (test/support/emulator.ts). */
    emulatorLeaseDir: string;
    emulatorKind: 'moto' | 'external';
  }
}

/** Integration files run this many at a time, each worker with its own moto (see vitest.config.ts). */
export const EMULATORS = Number(process.env.CELERITY_TEST_EMULATORS ?? 3);

let emulators: Emulator[] = [];
let leaseDir: string | undefined;

/**
 * Starts moto_server on a free loopback port for the integration suites (or uses AWS_ENDPOINT_URL,
 * e.g. LocalStack). If neither can be had, this throws with the reason and the run fails: the
 * integration tests never skip themselves.
 */
export async function setup(project: TestProject): Promise<void> {
  const first = await startEmulator();
  emulators = [first];
  // An emulator given from outside (LocalStack) is one: the suites then take turns on it.
  if (first.kind === 'moto') {
    // One more than files run at once: a lease held by a suite that crashed is taken over only
    // once its process is gone.
    emulators.push(...(await Promise.all(Array.from({ length: EMULATORS }, () => startEmulator()))));
  }
  leaseDir = mkdtempSync(join(tmpdir(), 'celerity-emulators-'));
  project.provide('emulatorLeaseDir', leaseDir);
  project.provide('awsEndpoint', first.endpoint);
  project.provide(
    'awsEndpoints',
    emulators.map((e) => e.endpoint),
  );
  project.provide('emulatorKind', first.kind);
}

export async function teardown(): Promise<void> {
  await Promise.all(emulators.map((e) => e.stop()));
  if (leaseDir) rmSync(leaseDir, { recursive: true, force: true });
}
