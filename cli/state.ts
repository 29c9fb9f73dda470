import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';

/**
 * What `npm run dev` writes to `.celerity/local.json` so other tools find the running local cloud:
 * where the emulator is, and the environment a worker function is given (CELERITY_*).
 */
export interface LocalState {
  pid?: number;
  startedAt?: string;
  endpoint: string;
  region: string;
  stackName?: string;
  queues?: Record<string, { url: string; arn: string; dlqUrl?: string; dlqArn?: string }>;
  tables?: Record<string, string>;
  scheduleGroups?: string[];
  environment: Record<string, string>;
}

export const STATE_FILE_ENV = 'CELERITY_STATE_FILE';

/** `CELERITY_STATE_FILE`, else `.celerity/local.json` here or in the nearest directory above. */
export function findStateFile(
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const given = env[STATE_FILE_ENV];
  if (given) return resolve(cwd, given);
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const candidate = join(dir, '.celerity', 'local.json');
    if (existsSync(candidate)) return candidate;
    if (dirname(dir) === dir) return undefined;
  }
}

/** Reads and checks a state file; a message naming the file says what is wrong with it. */
export function readState(file: string): LocalState {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new Error(
      `${file}: ${(error as NodeJS.ErrnoException).code === 'ENOENT' ? 'does not exist' : (error as Error).message}`,
    );
  }
  const state = value as Partial<LocalState>;
  if (!state || typeof state !== 'object' || typeof state.endpoint !== 'string' || !state.environment) {
    throw new Error(`${file}: is not a local cloud state file (no endpoint or environment)`);
  }
  return { region: 'us-east-1', ...state } as LocalState;
}

/** The local cloud's log files sit beside its state file (`.celerity/logs/worker.log`, `beat.log`). */
export function logDirOf(stateFile: string): string {
  return join(dirname(stateFile), 'logs');
}

/** Whether the process that wrote the state still runs (a stale file is left by a crash). */
export function isAlive(pid: number | undefined): boolean {
  if (!pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The state of a running local cloud, as `npm run dev` writes it (dev.ts can call this too). */
export function localStateOf(cloud: import('../localstack/local-cloud.ts').LocalCloud): LocalState {
  const { resources } = cloud;
  return {
    pid: process.pid,
    startedAt: new Date().toISOString(),
    endpoint: cloud.endpoint,
    region: cloud.region,
    stackName: resources.stackName,
    queues: Object.fromEntries(
      Object.values(resources.queuesByRoute).map((q) => [
        q.route,
        { url: q.url, arn: q.arn, ...(q.dlq ? { dlqUrl: q.dlq.url, dlqArn: q.dlq.arn } : {}) },
      ]),
    ),
    tables: Object.fromEntries(Object.values(resources.tables).map((t) => [t.logicalId, t.name])),
    scheduleGroups: Object.values(resources.scheduleGroups).map((g) => g.name),
    environment: cloud.workers[0]?.function.environment ?? {},
  };
}
