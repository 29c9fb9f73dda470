import { execFile, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * Reading task outcomes the way a Django app does: Debian's python3-celery (5.2.6) through its own
 * DynamoDBBackend (read_results.py), so a layout is judged by the reader it must satisfy.
 */
const PYTHON = '/usr/bin/python3';
const READER = join(import.meta.dirname, 'read_results.py');

const probe = spawnSync(PYTHON, ['-c', 'import celery.backends.dynamodb, boto3'], { encoding: 'utf8' });
/** Why Celery cannot be run here, or undefined when it can. */
export const celeryMissing: string | undefined =
  probe.error || probe.status !== 0
    ? `${PYTHON} has no celery or boto3 (apt-get install python3-celery python3-boto3)`
    : undefined;

/** What read_results.py prints for one task id. */
export interface CeleryRead {
  id: string;
  status: string;
  info: unknown;
  result: unknown;
  traceback: string | null;
  date_done: string | null;
  ready: boolean;
  get?: unknown;
  raised?: { exception: string; module: string; args: unknown[] };
}

/** Reads task ids through Celery's `AsyncResult`; `timeout` is each `get()`'s, in seconds. */
export async function readWithCelery(
  endpoint: string,
  table: string,
  ids: readonly string[],
  timeout = 1,
): Promise<CeleryRead[]> {
  const config = {
    endpoint,
    region: process.env.AWS_REGION ?? 'us-east-1',
    table,
    key: 'test',
    secret: 'test',
    cases: ids.map((id) => ({ id, timeout })),
  };
  const { stdout } = await promisify(execFile)(PYTHON, [READER, JSON.stringify(config)], {
    encoding: 'utf8',
  });
  return stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as CeleryRead);
}
