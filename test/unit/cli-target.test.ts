import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stackFailureQueues, stackWhere } from '../../cli/target.ts';
import { isLoopback, locateStateFile } from '../../localstack/dev/state-file.ts';
import { cliInProcess, useNoTarget } from '../support/cli-in-process.ts';

const { dir, useStateFile } = useNoTarget();

describe('where the CLI acts, and what it asks first', () => {
  it('refuses a destructive command without --yes when no terminal can ask, before reaching a target (exit 2)', async () => {
    for (const argv of [
      ['purge', 'default'],
      ['purge', '--all', '--dlq'],
      ['dlq', 'redrive', 'default'],
      ['dlq', 'redrive', 'scheduler'],
      ['beat', 'remove', 'Send Appointment Reminders'],
    ]) {
      const result = await cliInProcess(argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr, argv.join(' ')).toMatch(
        /--yes: refusing to .* without it \(no terminal to ask on\)/,
      );
      // The target was never resolved: the missing state file would have said so (exit 4).
      expect(result.stderr).not.toContain('npm run dev');
    }
  });

  it('names the target on stderr and asks on a terminal; "n" does nothing', async () => {
    const requests: string[] = [];
    const server = createServer((req, res) => {
      requests.push(`${req.method} ${req.url}`);
      res.end('{}');
    });
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const file = join(dir, 'asks.json');
    writeFileSync(
      file,
      JSON.stringify({
        endpoint,
        region: 'us-east-1',
        environment: {
          CELERITY_QUEUES: JSON.stringify({
            default: {
              url: `${endpoint}/000000000000/default`,
              arn: 'arn:aws:sqs:us-east-1:000000000000:default',
            },
          }),
        },
      }),
    );
    useStateFile(file);
    try {
      const result = await cliInProcess(['purge', 'default', '--json'], { answer: 'n' });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain(
        `celerity: acting on the local cloud at ${endpoint} (state file ${file}, from CELERITY_STATE_FILE)\n`,
      );
      expect(result.stderr).toContain('purge queue default (every waiting message is deleted)? [y/N] ');
      expect(result.stderr).toContain('not confirmed');
      // Only the probe that the local cloud is up: no SQS call was made.
      expect(requests).toEqual(['GET /']);
      expect(JSON.parse(result.stdout).error).toMatchObject({ code: 2, type: 'NotConfirmed' });
    } finally {
      useStateFile();
      server.close();
    }
  });

  it('refuses a state file whose endpoint is not this machine, naming the file and the endpoint', async () => {
    const file = join(dir, 'remote.json');
    writeFileSync(file, JSON.stringify({ endpoint: 'http://10.0.0.5:4566', environment: {} }));
    useStateFile(file);
    try {
      const result = await cliInProcess(['--json', 'tasks']);
      expect(result.code).toBe(4);
      expect(result.stderr).toContain(`${file}: refusing its endpoint http://10.0.0.5:4566`);
      expect(JSON.parse(result.stdout).error).toMatchObject({ type: 'StateFileRefused' });
    } finally {
      useStateFile();
    }
  });

  it('takes only loopback endpoints', () => {
    for (const ok of [
      'http://127.0.0.1:4566',
      'http://127.8.9.10',
      'http://localhost:5000',
      'http://[::1]:4566',
    ]) {
      expect(isLoopback(ok), ok).toBe(true);
    }
    for (const bad of [
      'http://10.0.0.5:4566',
      'http://0.0.0.0:4566',
      'http://128.0.0.1',
      'http://127.0.0.1.nip.io',
      'https://sqs.eu-west-1.amazonaws.com',
      'http://[::ffff:10.0.0.5]',
      'not a url',
    ]) {
      expect(isLoopback(bad), bad).toBe(false);
    }
  });

  it('says when the state file came from a parent folder', () => {
    const root = mkdtempSync(join(tmpdir(), 'celerity-parent-'));
    mkdirSync(join(root, '.celerity'));
    mkdirSync(join(root, 'app', 'deep'), { recursive: true });
    writeFileSync(join(root, '.celerity', 'local.json'), '{}');
    expect(locateStateFile(join(root, 'app', 'deep'), {})).toEqual({
      file: join(root, '.celerity', 'local.json'),
      origin: 'parent',
    });
    expect(locateStateFile(root, {})).toMatchObject({ origin: 'here' });
    expect(locateStateFile(root, { CELERITY_STATE_FILE: 'x.json' })).toEqual({
      file: join(root, 'x.json'),
      origin: 'env',
    });
  });
});

describe('a stack target', () => {
  it('name the stack, its region and its account (from the StackId ARN)', () => {
    expect(
      stackWhere(
        'Celerity',
        'arn:aws:cloudformation:eu-west-1:123456789012:stack/Celerity/1f2e',
        'us-east-1',
      ),
    ).toBe('stack Celerity in eu-west-1, account 123456789012');
    expect(stackWhere('Celerity', undefined, 'us-east-1')).toBe(
      'stack Celerity in us-east-1, account unknown',
    );
  });

  it('give the failure queues that are no route DLQ', () => {
    expect(
      stackFailureQueues({
        routes: {},
        values: {
          schedulerDlqUrl: 'https://sqs/scheduler-dlq',
          schedulerDlqArn: 'arn:aws:sqs:eu-west-1:1:scheduler-dlq',
          beatSyncFailureQueueUrl: 'https://sqs/beat-sync-failures',
        },
      }),
    ).toEqual({
      scheduler: { url: 'https://sqs/scheduler-dlq', arn: 'arn:aws:sqs:eu-west-1:1:scheduler-dlq' },
      beatSync: { url: 'https://sqs/beat-sync-failures' },
    });
  });
});
