import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CreateQueueCommand, GetQueueUrlCommand } from '@aws-sdk/client-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { motoAnswers } from '../../localstack/emulator.ts';
import { isAlive } from '../../localstack/state-file.ts';
import { createAwsClients } from '../../shared/aws/index.ts';
import { until } from '../support/until.ts';

/**
 * `npm run dev` killed with SIGKILL leaves its emulator running (its own process group) with all
 * the local cloud's data in it. The next `npm run dev` must find it from the state file and take
 * it over, not start an empty one beside it; and a second `npm run dev` beside a live one refuses.
 */
process.env.AWS_ACCESS_KEY_ID ??= 'local';
process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
const dir = mkdtempSync(join(tmpdir(), 'celerity-orphan-'));
const stateFile = join(dir, 'local.json');
const started: ChildProcess[] = [];

interface Run {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function dev(): Run {
  const { AWS_ENDPOINT_URL: _given, ...env } = process.env;
  const child = spawn(join('node_modules', '.bin', 'tsx'), ['localstack/dev.ts'], {
    env: { ...env, CELERITY_STATE_FILE: stateFile, LOG_LEVEL: 'error' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  started.push(child);
  let text = '';
  child.stdout?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  child.stderr?.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return { child, output: () => text, exited };
}

const state = () =>
  JSON.parse(readFileSync(stateFile, 'utf8')) as { pid: number; endpoint: string; emulatorPid: number };

afterAll(async () => {
  // Only what this file started: the dev runs, and the emulator the state file names.
  for (const child of started) if (child.exitCode === null) child.kill('SIGKILL');
  if (existsSync(stateFile)) {
    const { pid, emulatorPid } = state();
    for (const p of [pid, -emulatorPid]) {
      try {
        process.kill(p, 'SIGKILL');
      } catch {}
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

describe.skipIf(Boolean(process.env.AWS_ENDPOINT_URL))('npm run dev after a kill -9', () => {
  it('takes over the emulator the killed run left, with its data; refuses to run beside a live one', async () => {
    const first = dev();
    await until(
      'the first run to be ready',
      async () => (first.output().includes('ready in') ? true : undefined),
      90_000,
    );
    const before = state();
    const sqs = createAwsClients({ endpoint: before.endpoint, region: 'us-east-1' }).sqs;
    await sqs.send(new CreateQueueCommand({ QueueName: 'left-by-the-first-run' }));

    process.kill(before.pid, 'SIGKILL');
    await first.exited;
    expect(await motoAnswers(before.endpoint)).toBe(true);

    const second = dev();
    await until(
      'the second run to be ready',
      async () => (second.output().includes('ready in') ? true : undefined),
      90_000,
    );
    expect(second.output()).toContain(
      `the emulator of an earlier run (pid ${before.emulatorPid}, ${before.endpoint})`,
    );
    const after = state();
    expect(after).toMatchObject({ endpoint: before.endpoint, emulatorPid: before.emulatorPid });
    expect(after.pid).not.toBe(before.pid);
    const { QueueUrl } = await sqs.send(new GetQueueUrlCommand({ QueueName: 'left-by-the-first-run' }));
    expect(QueueUrl).toContain('left-by-the-first-run');

    const third = dev();
    expect(await third.exited).toBe(1);
    expect(third.output()).toContain(`a local cloud is already running (pid ${after.pid}`);
    expect(state().pid).toBe(after.pid);

    // Stopped as usual, the second run stops the emulator it took over.
    process.kill(after.pid, 'SIGINT');
    await second.exited;
    await until(
      'the adopted emulator to stop',
      async () => (isAlive(before.emulatorPid) ? undefined : true),
      15_000,
    );
    expect(existsSync(stateFile)).toBe(false);
  }, 240_000);
});
