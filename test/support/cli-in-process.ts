import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { afterAll, beforeAll } from 'vitest';
import '../../functions/tasks/index.ts';
import { run } from '../../cli/program.ts';

/**
 * For the suite: CELERITY_STATE_FILE names a file that does not exist, so a command that reached
 * for a target fails fast (exit 4) instead of calling AWS. Returns a scratch folder, and the way
 * to point at another state file for one test.
 */
export function useNoTarget(): { dir: string; useStateFile: (file?: string) => void } {
  const dir = mkdtempSync(join(tmpdir(), 'celerity-cli-unit-'));
  const none = join(dir, 'none.json');
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env.CELERITY_STATE_FILE;
    process.env.CELERITY_STATE_FILE = none;
  });
  afterAll(() => {
    if (saved === undefined) delete process.env.CELERITY_STATE_FILE;
    else process.env.CELERITY_STATE_FILE = saved;
  });
  return {
    dir,
    useStateFile: (file) => {
      process.env.CELERITY_STATE_FILE = file ?? none;
    },
  };
}

/** The CLI in this process; stdin is no terminal unless `answer` is given (a person typing it). */
export async function cliInProcess(argv: string[], input: { answer?: string } = {}) {
  let stdout = '';
  let stderr = '';
  const stdin =
    input.answer === undefined
      ? Readable.from([])
      : Object.assign(Readable.from([`${input.answer}\n`]), { isTTY: true });
  const code = await run(argv, {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    stdin,
  });
  return { code, stdout, stderr };
}
