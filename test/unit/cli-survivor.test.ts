import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliInProcess, useNoTarget } from '../support/cli-in-process.ts';

const { dir, useStateFile } = useNoTarget();
/** A pid that no process has any more: a child that has exited and been reaped. */
const deadPid = spawnSync(process.execPath, ['-e', '0']).pid as number;
// Stands in for the surviving moto: it answers, as moto does, on /moto-api/.
const server = createServer((_req, res) => res.end('{}'));
let endpoint = '';

beforeAll(async () => {
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(() => {
  server.close();
});

function stateFile(name: string, emulatorPid: number | undefined): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    JSON.stringify({
      pid: deadPid,
      endpoint,
      region: 'us-east-1',
      ...(emulatorPid === undefined ? {} : { emulatorPid }),
      environment: {},
    }),
  );
  return file;
}

describe('the advice when the local cloud is not running', () => {
  it('says that a surviving emulator still holds the data, that npm run dev carries on with it, and that --fresh discards it', async () => {
    // This test's own process plays the emulator's: alive, and something answers at the endpoint.
    const file = stateFile('survivor.json', process.pid);
    useStateFile(file);
    try {
      const result = await cliInProcess(['inspect', 'queues']);
      expect(result.code).toBe(4);
      expect(result.stderr).toContain(`the local cloud in ${file} (pid ${deadPid}) is not running`);
      expect(result.stderr).toContain(
        `but its emulator (pid ${process.pid}, ${endpoint}) is, with its queued tasks, results and periodic tasks`,
      );
      expect(result.stderr).toContain('`npm run dev` carries on with them');
      expect(result.stderr).toContain('`npm run dev -- --fresh` discards them');
    } finally {
      useStateFile();
    }
  });

  it('says only "start it" when no emulator survived', async () => {
    for (const [name, pid] of [
      ['no-emulator.json', undefined],
      ['dead-emulator.json', deadPid],
    ] as const) {
      const file = stateFile(name, pid);
      useStateFile(file);
      try {
        const result = await cliInProcess(['inspect', 'queues']);
        expect(result.code).toBe(4);
        expect(result.stderr).toContain(
          `the local cloud in ${file} (pid ${deadPid}) is not running: start it with \`npm run dev\``,
        );
        expect(result.stderr).not.toContain('--fresh');
      } finally {
        useStateFile();
      }
    }
  });
});
