import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { formatEntry } from '../../cli/commands/logs.ts';
import { describeFailure, flagOf } from '../../cli/errors.ts';
import { table, zonedTime } from '../../cli/format.ts';
import {
  parseCallSets,
  parseCrontabLine,
  parseInstant,
  parseJsonArray,
  parseJsonObject,
  parseNumber,
  parseSince,
  parseStates,
} from '../../cli/parse.ts';
import { ValidationError } from '../../shared/errors.ts';
import { NotFoundError } from '../../shared/ops/errors.ts';
import { cliInProcess, useNoTarget } from '../support/cli-in-process.ts';

const { dir } = useNoTarget();

function cli(...argv: string[]) {
  return cliInProcess(argv);
}

describe('argument parsing', () => {
  it('names the flag and shows what it got', () => {
    expect(() => parseJsonArray('--args', '{"a":1}')).toThrow('--args: must be a JSON array (got {"a":1})');
    expect(() => parseJsonArray('--args', '[1,')).toThrow(/--args: is not valid JSON/);
    expect(() => parseJsonObject('--kwargs', '[1]')).toThrow('--kwargs: must be a JSON object (got [1])');
    expect(() => parseNumber('--limit', 'ten', { min: 1, integer: true })).toThrow(
      '--limit: must be a whole number of at least 1 (got ten)',
    );
    expect(() => parseInstant('--eta', '2026-01-01 09:00')).toThrow(
      /--eta: must be an ISO 8601 date-time with a zone/,
    );
    expect(parseInstant('--eta', '2026-01-01T09:00:00+01:00').toISOString()).toBe('2026-01-01T08:00:00.000Z');
  });

  it('reads spans, states and crontab lines', () => {
    const now = new Date('2026-01-01T12:00:00Z');
    expect(parseSince('--since', '15m', now).toISOString()).toBe('2026-01-01T11:45:00.000Z');
    expect(parseSince('--since', '2d', now).toISOString()).toBe('2025-12-30T12:00:00.000Z');
    expect(() => parseSince('--since', 'yesterday', now)).toThrow(/--since: must be a span/);
    expect(parseStates('--state', 'failure,Retry')).toEqual(['FAILURE', 'RETRY']);
    expect(() => parseStates('--state', 'DONE#1')).toThrow('--state: DONE#1 is not a state (one of PENDING');
    // A custom state (`ctx.updateState`) is kept as the task wrote it.
    expect(parseStates('--state', 'PROGRESS,success')).toEqual(['PROGRESS', 'SUCCESS']);
    expect(parseCrontabLine('--crontab', '0 9 * * 1-5')).toEqual({
      minute: '0',
      hour: '9',
      dayOfMonth: '*',
      monthOfYear: '*',
      dayOfWeek: '1-5',
    });
    expect(() => parseCrontabLine('--crontab', '0 9 *')).toThrow(/--crontab: must be five fields/);
  });

  it('reads call sets from JSON lines or an array, refusing what is not args or kwargs', () => {
    expect(parseCallSets('f', '{"args":[1]}\n\n{"kwargs":{"a":1}}\n')).toEqual([
      { args: [1] },
      { kwargs: { a: 1 } },
    ]);
    expect(parseCallSets('f', '[{"args":[1]},{}]')).toEqual([{ args: [1] }, {}]);
    expect(() => parseCallSets('f', '{"args":[1]}\n{"arg":[1]}')).toThrow(
      '--from-file f line 2: arg is not args or kwargs',
    );
    expect(() => parseCallSets('f', '[{"args":3}]')).toThrow(
      '--from-file f line 1 (item 0): args must be a JSON array',
    );
    expect(() => parseCallSets('f', '  ')).toThrow('--from-file: f is empty');
  });
});

describe('errors and exit codes', () => {
  it('maps validation fields to flags', () => {
    expect(flagOf('call.args')).toBe('--args');
    expect(flagOf('calls[0].args.1')).toBe('--args[1]');
    expect(flagOf('crontab.hour')).toBe('--crontab (hour)');
    expect(flagOf('crontab.timezone')).toBe('--timezone');
    expect(flagOf('solar.latitude')).toBe('--lat');
    expect(flagOf('clocked.clockedTime')).toBe('--clocked');
  });

  it('gives each kind of failure its code', () => {
    expect(describeFailure(ValidationError.of('interval.every', 'must be at least 1'))).toMatchObject({
      code: 2,
      message: '--every: must be at least 1',
    });
    expect(describeFailure(new NotFoundError('task', 'x')).code).toBe(3);
    expect(describeFailure(Object.assign(new Error('connect'), { code: 'ECONNREFUSED' })).code).toBe(4);
    const noCredentials = Object.assign(new Error('Could not load credentials'), {
      name: 'CredentialsProviderError',
    });
    expect(describeFailure(noCredentials).code).toBe(4);
    expect(describeFailure(new Error('boom')).code).toBe(1);
  });
});

describe('the command line, in process (no target needed)', () => {
  it('refuses bad arguments with exit 2 before reaching for a target', async () => {
    const bad = join(dir, 'bad.json');
    writeFileSync(bad, '[{"args": [1, 2]}, {"args": 3}]');
    const cases: [string[], string][] = [
      [['call', 'apps.demo.tasks.add', '--args', '{"a":1}'], '--args: must be a JSON array (got {"a":1})'],
      [
        ['call', 'apps.demo.tasks.add', '--countdown', '5', '--eta', '2030-01-01T00:00:00Z'],
        '--countdown and --eta',
      ],
      [['call', 'apps.demo.tasks.nope'], 'apps.demo.tasks.nope: is not a registered task'],
      [['call', 'apps.demo.tasks.add', '--bogus'], "unknown option '--bogus'"],
      [['call', 'apps.demo.tasks.add', '--timeout', '5'], '--timeout: only means something with --wait'],
      [['call', 'apps.demo.tasks.add', '--from-file', bad], 'line 1 (item 1): args must be a JSON array'],
      [
        ['call', 'apps.demo.tasks.add', '--from-file', join(dir, 'missing.jsonl')],
        '--from-file: cannot read',
      ],
      [['tasks', '--limit', 'ten'], '--limit: must be a whole number'],
      [['tasks', '--limit', '1001'], '--limit: must be a whole number from 1 to 1000 (got 1001)'],
      [['purge', 'default'], '--yes: refusing to purge queue default'],
      [['dlq', 'redrive', 'default', '--strategy', 'teleport'], '--strategy: must be move-task or copy'],
      [['dlq', 'redrive', 'scheduler', '--strategy', 'copy'], "--strategy: only for a route's DLQ"],
      [['dlq', 'redrive', 'beat-sync', '--limit', '5'], '--limit: not for beat-sync'],
      [['dlq', 'show'], 'QUEUE: name a route, scheduler or beat-sync, or give --all'],
      [
        ['beat', 'add', '--name', 'x', '--task', 'apps.demo.tasks.noop', '--crontab', '0 9 * *'],
        '--crontab: must be five fields',
      ],
      [
        [
          'beat',
          'add',
          '--name',
          'x',
          '--task',
          'apps.demo.tasks.noop',
          '--crontab',
          '0 9 * * *',
          '--every',
          '5',
        ],
        '--crontab and --every',
      ],
      [
        ['beat', 'add', '--name', 'x', '--task', 'apps.demo.tasks.noop', '--every', '5'],
        '--period: required with --every',
      ],
      [
        [
          'beat',
          'add',
          '--name',
          'x',
          '--task',
          'apps.demo.tasks.noop',
          '--solar',
          'sunrise',
          '--lat',
          '95',
          '--lon',
          '0',
        ],
        '--lat: must be a number from -90 to 90',
      ],
      [['beat', 'add', '--name', 'x', '--task', 'apps.demo.tasks.noop'], 'schedule: give one of --crontab'],
      [['beat', 'preview', '--crontab', '0 25 * * *'], '--crontab (hour): 25 is out of range'],
      [['logs', 'scheduler'], 'COMPONENT: must be worker or beat'],
      [['--local', '--stack', 'X', 'tasks'], '--local and --stack'],
    ];
    for (const [argv, message] of cases) {
      const result = await cli(...argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr, argv.join(' ')).toContain(message);
      expect(result.stderr).not.toMatch(/\n\s+at /);
    }
  });

  it("states the --limit bounds in the listing commands' help", async () => {
    for (const argv of [
      ['tasks', '--help'],
      ['inspect', 'active', '--help'],
    ]) {
      const result = await cli(...argv);
      expect(result.stdout, argv.join(' ')).toMatch(/--limit <n>\s+at most this many( rows)?, 1 to 1000/);
    }
  });

  it('puts the error in the JSON output too', async () => {
    const result = await cli('--json', 'tasks', '--limit', '0');
    expect(JSON.parse(result.stdout).error).toMatchObject({ code: 2, type: 'UsageError' });
  });

  it('lists registered tasks and previews a schedule without a target', async () => {
    const registered = await cli('inspect', 'registered', '--json');
    expect(registered.code).toBe(0);
    expect(JSON.parse(registered.stdout)).toContainEqual(
      expect.objectContaining({
        name: 'apps.notifications.tasks.send_email_notification',
        queue: 'notifications',
      }),
    );
    const preview = await cli(
      'beat',
      'preview',
      '--crontab',
      '30 1 * * *',
      '--timezone',
      'Europe/London',
      '--count',
      '2',
      '--json',
    );
    expect(preview.code).toBe(0);
    const body = JSON.parse(preview.stdout);
    expect(body).toMatchObject({ timezone: 'Europe/London', schedule: '30 1 * * * (Europe/London)' });
    expect(body.times).toHaveLength(2);
    const human = await cli('beat', 'preview', '--every', '90', '--period', 'minutes', '--count', '1');
    expect(human.stdout).toContain('every 90 minutes, times in UTC');
  });

  it('says where the local cloud is missing with exit 4', async () => {
    const result = await cli('--local', 'inspect', 'queues');
    expect(result.code).toBe(4);
    expect(result.stderr).toContain('npm run dev');
  });
});

describe('formatting', () => {
  it('aligns tables and shows unset cells as -', () => {
    expect(
      table(
        [
          { a: 'x', b: undefined },
          { a: 'longer', b: 3 },
        ],
        [
          { header: 'A', value: (r) => r.a },
          { header: 'B', value: (r) => r.b },
        ],
      ),
    ).toBe('A       B\nx       -\nlonger  3');
  });

  it('shows instants as wall time in a zone with its offset', () => {
    expect(zonedTime('2026-07-01T08:00:00Z', 'Europe/London')).toBe('2026-07-01 09:00:00 +01:00');
    expect(zonedTime('2026-01-01T08:00:00Z', 'UTC')).toBe('2026-01-01 08:00:00 +00:00');
  });

  it('prints a log line with the task fields first', () => {
    const line = formatEntry({
      time: '2026-01-01T09:00:05.120Z',
      level: 'info',
      message: 'task succeeded',
      component: 'worker',
      fields: { route: 'default', runtimeMs: 12, taskId: 't-1', task: 'apps.demo.tasks.add' },
    });
    expect(line).toBe(
      '09:00:05.120  INFO   worker  task succeeded  taskId=t-1  task=apps.demo.tasks.add  runtimeMs=12  route=default',
    );
  });
});
