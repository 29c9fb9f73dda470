import { describe, expect, it } from 'vitest';
import { patchFromOptions } from '../../cli/commands/beat-options.ts';
import { parseCallLines } from '../../cli/parse.ts';
import { cliInProcess, useNoTarget } from '../support/cli-in-process.ts';

useNoTarget();

describe('--from-file names the line of every error (issue #9 finding 7)', () => {
  it('names the line and index of each element of a whole-array file', () => {
    const text = '[\n  {"args": [1, 2]},\n  {"args": [3, 4]},\n\n  {"kwargs": {"x": "a,]}\\"["}}, {}\n]\n';
    expect(parseCallLines('f.json', text).map((s) => s.where)).toEqual([
      'f.json line 2 (item 0)',
      'f.json line 3 (item 1)',
      'f.json line 5 (item 2)',
      'f.json line 5 (item 3)',
    ]);
  });

  it('names the line of a shape error in an array, and of a JSON error in one', () => {
    const shape = '[\n  {"args": [1]},\n  {"args": [2]},\n  {"args": 5}\n]';
    expect(() => parseCallLines('f.json', shape)).toThrow(
      '--from-file f.json line 4 (item 2): args must be a JSON array',
    );
    const notObject = '[{"args": [1]},\n 7]';
    expect(() => parseCallLines('f.json', notObject)).toThrow(
      '--from-file f.json line 2 (item 1): must be an object',
    );
    const broken = '[\n  {"args": [1]},\n  {"args": [2]}\n  {"args": [3]}\n]';
    expect(() => parseCallLines('f.json', broken)).toThrow(/^--from-file f\.json line 4: is not valid JSON/);
  });

  it('names the line in a JSON-lines file, counting blank lines', () => {
    expect(() => parseCallLines('f.jsonl', '{"args":[1]}\n\n{"args":{}}\n')).toThrow(
      '--from-file f.jsonl line 3: args must be a JSON array',
    );
    expect(() => parseCallLines('f.jsonl', '{"args":[1]}\n{"args":[1]\n')).toThrow(
      /--from-file f\.jsonl line 2: is not valid JSON/,
    );
  });
});

describe('result --wait has a default timeout, stated in --help', () => {
  it('says how long it waits and that 0 waits without end', async () => {
    for (const argv of [
      ['result', '--help'],
      ['call', '--help'],
    ]) {
      const help = (await cliInProcess(argv)).stdout.replace(/\s+/g, ' ');
      expect(help, argv.join(' ')).toContain(
        'give up after this many seconds, with exit 1 (default 60; 0 waits without end)',
      );
    }
  });
});

describe('beat update (issue #9 finding 7)', () => {
  it('patches only the fields given, and --clear empties optional ones', () => {
    expect(patchFromOptions({ description: 'nightly' })).toEqual({ description: 'nightly' });
    expect(patchFromOptions({ every: '5', period: 'minutes', disabled: true })).toEqual({
      interval: { every: 5, period: 'minutes' },
      enabled: false,
    });
    expect(patchFromOptions({ clear: 'expires,start,queue', oneOff: false })).toEqual({
      expires: null,
      startTime: null,
      queue: null,
      oneOff: false,
    });
  });

  it('refuses an empty patch, an unknown --clear field, and a field both set and cleared', async () => {
    const cases: [string[], string][] = [
      [['beat', 'update', 'nightly'], 'nothing to change'],
      [
        ['beat', 'update', 'nightly', '--clear', 'task'],
        '--clear: task is not one of args, kwargs, queue, expires, start, description',
      ],
      [
        ['beat', 'update', 'nightly', '--clear', 'expires', '--expires', '2030-01-01T00:00:00Z'],
        '--clear expires and --expires: give one or the other',
      ],
      [['beat', 'update', 'nightly', '--enabled', '--disabled'], '--disabled and --enabled'],
      [['beat', 'update', 'nightly', '--every', '5', '--period', 'fortnights'], '--period: must be one of'],
    ];
    for (const [argv, message] of cases) {
      const result = await cliInProcess(argv);
      expect(result.code, argv.join(' ')).toBe(2);
      expect(result.stderr, argv.join(' ')).toContain(message);
    }
  });

  it('needs a target only once the flags are good', async () => {
    const result = await cliInProcess(['beat', 'update', 'nightly', '--description', 'x']);
    expect(result.code).toBe(4);
  });
});
