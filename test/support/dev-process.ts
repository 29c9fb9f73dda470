import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { LocalState } from '../../localstack/dev/state-file.ts';
import { until } from './until.ts';

/** One `npm run dev` started by a test: its process, what it printed so far, and its exit. */
export interface DevRun {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export interface DevRuns {
  dir: string;
  stateFile: string;
  /** `npm run dev` (tsx on localstack/dev/dev.ts) with this suite's state file; `--import` loads test tasks beside LabControl's. */
  dev(options?: { args?: string[]; env?: Record<string, string>; imports?: string[] }): DevRun;
  /** Resolves once the run says `ready in`; fails with everything it said otherwise. */
  ready(run: DevRun, timeoutMs?: number): Promise<void>;
  state(): LocalState & { pid: number; emulatorPid: number };
}

/**
 * For a suite that starts `npm run dev` as a user does, in a scratch folder of its own (never the
 * `AWS_ENDPOINT_URL` of the test run: dev must start and adopt its own moto). After the suite,
 * what it started is killed: the runs, and the emulator their state file names.
 */
export function useDevRuns(prefix: string): DevRuns {
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const dir = mkdtempSync(join(tmpdir(), prefix));
  const stateFile = join(dir, 'local.json');
  const started: ChildProcess[] = [];
  const state = () => JSON.parse(readFileSync(stateFile, 'utf8')) as ReturnType<DevRuns['state']>;

  afterAll(() => {
    for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
    if (existsSync(stateFile)) {
      const { pid, emulatorPid } = state();
      for (const p of [pid, ...(emulatorPid ? [-emulatorPid] : [])]) {
        try {
          process.kill(p, 'SIGKILL');
        } catch {}
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  return {
    dir,
    stateFile,
    state,
    dev(options = {}) {
      const { AWS_ENDPOINT_URL: _given, ...env } = process.env;
      const imports = (options.imports ?? []).flatMap((file) => ['--import', file]);
      const child = spawn(
        join('node_modules', '.bin', 'tsx'),
        [...imports, 'localstack/dev/dev.ts', ...(options.args ?? [])],
        {
          env: { ...env, CELERITY_STATE_FILE: stateFile, LOG_LEVEL: 'error', ...options.env },
          stdio: ['ignore', 'pipe', 'pipe'],
        },
      );
      started.push(child);
      let text = '';
      child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
      child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      return { child, output: () => text, exited };
    },
    async ready(run, timeoutMs = 120_000) {
      const isReady = async () => (run.output().includes('ready in') ? true : undefined);
      try {
        await until('npm run dev to be ready', isReady, timeoutMs);
      } catch {
        throw new Error(`npm run dev was not ready within ${timeoutMs / 1000} s; it said:\n${run.output()}`);
      }
    },
  };
}

/** Whether any process of a group is left (moto_server leads its own group). */
export function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
