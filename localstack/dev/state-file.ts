import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { isIPv4 } from 'node:net';
import { basename, dirname, join, resolve } from 'node:path';
import { ConfigEnv } from '../../shared/config/env.ts';
import { motoAnswers } from '../emulator/emulator.ts';
import type { LocalCloud } from '../local-cloud.ts';

/**
 * What `npm run dev` writes to `.celerity/local.json` so other tools find the running local cloud:
 * where the emulator is, and the environment a worker function is given (CELERITY_*). This module
 * owns the file: `npm run dev` writes it, and it is the one module of the local cloud the CLI reads.
 */
export interface LocalState {
  pid?: number;
  /** The moto process `npm run dev` started (its group's leader), so a later run finds it after a crash. */
  emulatorPid?: number;
  startedAt?: string;
  endpoint: string;
  region: string;
  stackName?: string;
  queues?: Record<string, { url: string; arn: string; dlqUrl?: string; dlqArn?: string }>;
  tables?: Record<string, string>;
  scheduleGroups?: string[];
  /** The failure queues that are no route's DLQ (`inspect queues`, `dlq show scheduler|beat-sync`). */
  failureQueues?: { scheduler?: { url: string; arn: string }; beatSync?: { url: string; arn: string } };
  environment: Record<string, string>;
}

export const STATE_FILE_ENV = 'CELERITY_STATE_FILE';

/** A state file, and how it was found: named by CELERITY_STATE_FILE, here, or in a parent folder. */
export interface FoundStateFile {
  file: string;
  origin: 'env' | 'here' | 'parent';
}

/** `CELERITY_STATE_FILE`, else `.celerity/local.json` here or in the nearest directory above. */
export function locateStateFile(
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): FoundStateFile | undefined {
  const given = env[STATE_FILE_ENV];
  if (given) return { file: resolve(cwd, given), origin: 'env' };
  const here = resolve(cwd);
  for (let dir = here; ; dir = dirname(dir)) {
    const candidate = join(dir, '.celerity', 'local.json');
    if (existsSync(candidate)) return { file: candidate, origin: dir === here ? 'here' : 'parent' };
    if (dirname(dir) === dir) return undefined;
  }
}

export function findStateFile(
  cwd: string = process.cwd(),
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  return locateStateFile(cwd, env)?.file;
}

/** Whether a URL's host is this machine: 127.0.0.0/8, ::1 or localhost. */
export function isLoopback(endpoint: string): boolean {
  let host: string;
  try {
    host = new URL(endpoint).hostname.toLowerCase();
  } catch {
    return false;
  }
  if (host === 'localhost' || host === '[::1]') return true;
  return isIPv4(host) && host.startsWith('127.');
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

/** Writes the state whole or not at all: a reader never sees half a file. */
export function writeState(file: string, state: LocalState): void {
  mkdirSync(dirname(file), { recursive: true });
  const temporary = `${file}.${process.pid}.tmp`;
  writeFileSync(temporary, `${JSON.stringify(state, null, 2)}\n`);
  renameSync(temporary, file);
}

/** The local cloud's log files sit beside its state file (`.celerity/logs/worker.log`, `beat.log`). */
export function logDirOf(stateFile: string): string {
  return join(dirname(stateFile), 'logs');
}

/**
 * The receipt handles the pollers hold sit beside the state file, named after it, so two local
 * clouds with two state files in one folder keep two journals (`.celerity/local.inflight.jsonl`).
 */
export function inflightJournalOf(stateFile: string): string {
  return join(dirname(stateFile), `${basename(stateFile).replace(/\.json$/, '')}.inflight.jsonl`);
}

/**
 * The emulator a crashed `npm run dev` left behind, with its data: the state file names it, its
 * process lives and it answers. The next `npm run dev` takes it over; the CLI says so.
 */
export async function survivingEmulator(
  state: LocalState,
): Promise<{ pid: number; endpoint: string } | undefined> {
  const pid = state.emulatorPid;
  if (pid === undefined || !isAlive(pid) || !(await motoAnswers(state.endpoint))) return undefined;
  return { pid, endpoint: state.endpoint };
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
export function localStateOf(cloud: LocalCloud): LocalState {
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
    failureQueues: failureQueuesOf(cloud),
    environment: cloud.workers[0]?.function.environment ?? {},
  };
}

/**
 * The Scheduler's DLQ (the queue the workers' CELERITY_SCHEDULER_DLQ_ARN names) and the on-failure
 * queue of the table stream mappings (the beat sync's), as the template made them.
 */
function failureQueuesOf(cloud: LocalCloud): LocalState['failureQueues'] {
  const { resources } = cloud;
  const queues = Object.values(resources.queues);
  const schedulerArn = cloud.workers[0]?.function.environment[ConfigEnv.schedulerDeadLetterArn];
  const scheduler = queues.find((q) => q.arn === schedulerArn);
  const beatSyncId = resources.eventSourceMappings.find(
    (m) => m.tableLogicalId && m.onFailure?.queueLogicalId,
  )?.onFailure?.queueLogicalId;
  const beatSync = beatSyncId ? resources.queues[beatSyncId] : undefined;
  return {
    ...(scheduler ? { scheduler: { url: scheduler.url, arn: scheduler.arn } } : {}),
    ...(beatSync ? { beatSync: { url: beatSync.url, arn: beatSync.arn } } : {}),
  };
}
