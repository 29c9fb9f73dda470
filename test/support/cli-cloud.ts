import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll } from 'vitest';
import { localStateOf } from '../../localstack/dev/state-file.ts';
import { type LocalCloud, startLocalCloud } from '../../localstack/local-cloud.ts';
import { type Run, runCli } from './cli-runner.ts';

export interface CliCloud {
  readonly cloud: LocalCloud;
  /** The suite's scratch folder: the state file and the log files are in it. */
  readonly dir: string;
  readonly stateFile: string;
  /** The real CLI, as a user runs it, against the state file this suite wrote. */
  cli(
    args: string[],
    env?: Record<string, string>,
    options?: { cwd?: string; throughPipe?: boolean },
  ): Promise<Run>;
}

/** A local cloud on the suite's emulator, with its state file written as `npm run dev` writes it. */
export function useCliCloud(endpoint: string): CliCloud {
  let cloud: LocalCloud | undefined;
  let dir = '';
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'celerity-cli-'));
    // The log files `celerity logs` reads, where `npm run dev` puts them: beside the state file.
    cloud = await startLocalCloud({
      endpoint,
      logLevel: 'silent',
      logDir: join(dir, 'logs'),
      overrides: { waitTimeSeconds: 1 },
    });
    writeFileSync(join(dir, 'local.json'), `${JSON.stringify(localStateOf(cloud), null, 2)}\n`);
  });
  afterAll(async () => {
    await cloud?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });
  return {
    get cloud() {
      if (!cloud) throw new Error('the local cloud starts in beforeAll');
      return cloud;
    },
    get dir() {
      return dir;
    },
    get stateFile() {
      return join(dir, 'local.json');
    },
    cli(args, env = {}, options = {}) {
      return runCli(join(dir, 'local.json'), args, env, options);
    },
  };
}
