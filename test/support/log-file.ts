import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/** The entries of one of the local cloud's log files (`worker.log`, `beat.log`) under `dir`. */
export function logEntries(dir: string, stream: 'worker' | 'beat'): Record<string, unknown>[] {
  return readFileSync(join(dir, `${stream}.log`), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
