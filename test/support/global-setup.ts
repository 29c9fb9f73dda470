import type { TestProject } from 'vitest/node';
import { type Emulator, startEmulator } from '../../localstack/emulator.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    awsEndpoint: string;
    emulatorKind: 'moto' | 'external';
  }
}

let emulator: Emulator | undefined;

/**
 * Starts moto_server on a free loopback port for the integration suites (or uses AWS_ENDPOINT_URL,
 * e.g. LocalStack). If neither can be had, this throws with the reason and the run fails: the
 * integration tests never skip themselves.
 */
export async function setup(project: TestProject): Promise<void> {
  emulator = await startEmulator();
  project.provide('awsEndpoint', emulator.endpoint);
  project.provide('emulatorKind', emulator.kind);
}

export async function teardown(): Promise<void> {
  await emulator?.stop();
}
