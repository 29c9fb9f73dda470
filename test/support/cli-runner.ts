import { spawn } from 'node:child_process';
import { join } from 'node:path';

const BIN = join(import.meta.dirname, '../../cli/celerity.mjs');

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
  // biome-ignore lint/suspicious/noExplicitAny: JSON output is checked by the assertions
  json: () => any;
}

/**
 * The real CLI, as a user runs it (`cli/celerity.mjs`), against the local cloud the state file
 * names; none of this process's CELERITY_* or AWS_ENDPOINT_URL settings leak into it.
 */
export function runCli(
  stateFile: string,
  args: string[],
  env: Record<string, string> = {},
  options: { cwd?: string; throughPipe?: boolean } = {},
): Promise<Run> {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('CELERITY_') && k !== 'AWS_ENDPOINT_URL'),
  );
  return new Promise((resolve, reject) => {
    // stdin is no terminal, as in CI: a destructive command without --yes must refuse, not wait.
    // `throughPipe`: stdout is an OS pipe (64 KiB of buffer, as `celerity ... | jq` gives), not
    // the socket pair node gives a child, which buffers far more.
    const [command, argv] = options.throughPipe
      ? ['bash', ['-c', 'set -o pipefail; "$@" | cat', 'celerity', process.execPath, BIN, ...args]]
      : [process.execPath, [BIN, ...args]];
    const child = spawn(command as string, argv as string[], {
      env: { ...base, CELERITY_STATE_FILE: stateFile, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(options.cwd ? { cwd: options.cwd } : {}),
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({
        code,
        stdout,
        stderr,
        json: () => {
          try {
            return JSON.parse(stdout);
          } catch {
            throw new Error(`not JSON (exit ${code}): ${stdout}\n${stderr}`);
          }
        },
      }),
    );
  });
}

/** A long-running CLI command (`--follow`): its output so far, and a way to stop it as Ctrl-C would. */
export function startCli(
  stateFile: string,
  args: string[],
): { output: () => string; stop: () => Promise<number | null> } {
  const base = Object.fromEntries(
    Object.entries(process.env).filter(([k]) => !k.startsWith('CELERITY_') && k !== 'AWS_ENDPOINT_URL'),
  );
  const child = spawn(process.execPath, [BIN, ...args], {
    env: { ...base, CELERITY_STATE_FILE: stateFile },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    out += d;
  });
  const exited = new Promise<number | null>((resolve) => child.once('close', resolve));
  return {
    output: () => out,
    stop: () => {
      child.kill('SIGINT');
      return exited;
    },
  };
}
