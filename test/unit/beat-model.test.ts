import { describe, expect, it } from 'vitest';
import { parseCrontabField, parsePeriodicTask } from '../../shared/beat/index.ts';
import { ValidationError } from '../../shared/errors.ts';
import {
  BAD_DEFINITIONS as bad,
  base,
  cron,
  KNOWN_TASKS as known,
  BAD_DEFINITIONS_NOW as NOW,
} from '../support/bad-definitions.ts';

const options = { now: NOW, knownTask: (name: string) => known.has(name), defaultTimezone: 'Europe/London' };

function refusal(input: unknown): ValidationError {
  try {
    parsePeriodicTask(input, options);
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error(`expected ${JSON.stringify(input)} to be refused`);
}

describe('parsePeriodicTask accepts', () => {
  it("django-celery-beat's fields with defaults filled in", () => {
    const task = parsePeriodicTask(cron({}), options);
    expect(task).toMatchObject({
      args: [],
      kwargs: {},
      headers: {},
      enabled: true,
      oneOff: false,
      totalRunCount: 0,
      description: '',
      crontab: {
        minute: '0',
        hour: '9',
        dayOfWeek: '*',
        dayOfMonth: '*',
        monthOfYear: '*',
        timezone: 'Europe/London',
      },
    });
  });

  it('every field, with nulls read as absent and numbers in crontab fields', () => {
    const task = parsePeriodicTask(
      {
        ...base,
        args: [1, 'two'],
        kwargs: { days: 1 },
        queue: 'notifications',
        headers: { 'x-trace': 'a' },
        priority: 255,
        expires: '2027-01-01T00:00:00Z',
        expireSeconds: 300,
        oneOff: false,
        startTime: '2026-04-01T00:00:00+02:00',
        enabled: false,
        description: 'daily',
        lastRunAt: '2026-02-28T09:00:00Z',
        totalRunCount: 12,
        dateChanged: '2026-02-01T00:00:00Z',
        crontab: { minute: 0, hour: 9, timezone: 'Asia/Kolkata' },
        interval: null,
        solar: null,
      },
      options,
    );
    expect(task.crontab).toMatchObject({ minute: '0', hour: '9', timezone: 'Asia/Kolkata' });
    expect(task.enabled).toBe(false);
  });

  it('a clocked task is one-off unless told otherwise', () => {
    const task = parsePeriodicTask({ ...base, clocked: { clockedTime: '2026-03-02T00:00:00Z' } }, options);
    expect(task.oneOff).toBe(true);
  });

  it('time zone aliases that ICU knows (US/Eastern, Asia/Calcutta, UTC, Etc/UTC)', () => {
    for (const timezone of ['US/Eastern', 'Asia/Calcutta', 'UTC', 'Etc/UTC']) {
      expect(parsePeriodicTask(cron({ timezone }), options).crontab?.timezone).toBe(timezone);
    }
  });
});

describe('parsePeriodicTask refuses, naming the field', () => {
  it('has at least 40 kinds', () => {
    expect(bad.length).toBeGreaterThanOrEqual(40);
  });

  it.each(bad)('%s', (_what, input, field, text) => {
    const error = refusal(input);
    const issue = error.issues.find((i) => i.field === field);
    expect(issue, `${field} in ${error.message}`).toBeDefined();
    expect(issue?.message).toContain(text);
  });

  it('reports every bad field at once, in the words of the issue', () => {
    const error = refusal(cron({ hour: '24', timezone: 'Mars/Olympus', dayOfWeek: '7' }));
    expect(error.message).toContain('crontab.hour: 24 is out of range 0-23');
    expect(error.message).toContain('crontab.timezone: "Mars/Olympus" is not an IANA time zone');
    expect(error.issues.map((i) => i.field)).toEqual([
      'crontab.hour',
      'crontab.dayOfWeek',
      'crontab.timezone',
    ]);
  });

  it('says which schedules it got', () => {
    expect(refusal({ ...cron({}), interval: { every: 1, period: 'days' } }).message).toBe(
      'schedule: give exactly one of crontab, interval, solar, clocked (got crontab and interval)',
    );
  });

  it('refuses a bad default timezone through the crontab that uses it', () => {
    expect(() => parsePeriodicTask(cron({}), { ...options, defaultTimezone: 'Nowhere/Land' })).toThrow(
      /crontab.timezone: "Nowhere\/Land" is not an IANA time zone/,
    );
  });
});

describe("Celery's crontab syntax", () => {
  it.each([
    ['minute', '*/15', [0, 15, 30, 45]],
    ['hour', '*/4', [0, 4, 8, 12, 16, 20]],
    ['dayOfWeek', '*', [0, 1, 2, 3, 4, 5, 6]],
    ['dayOfMonth', '*/3', [1, 4, 7, 10, 13, 16, 19, 22, 25, 28, 31]],
    ['monthOfYear', '*/2', [1, 3, 5, 7, 9, 11]],
    ['monthOfYear', '2-12/2', [2, 4, 6, 8, 10, 12]],
    ['dayOfWeek', 'mon-fri', [1, 2, 3, 4, 5]],
    ['dayOfWeek', 'fri-mon', [0, 1, 5, 6]],
    ['dayOfWeek', 'sunday,Sat', [0, 6]],
    ['dayOfWeek', 'TUES,thurs', [2, 4]],
    ['hour', '22-2/2', [0, 2, 22]],
    [
      'minute',
      '1,13,30-45,50-59/2',
      [1, 13, ...Array.from({ length: 16 }, (_, i) => 30 + i), 50, 52, 54, 56, 58],
    ],
    ['minute', ' 1, 2 ', [1, 2]],
    ['minute', '*/100', [0]],
    ['hour', 9, [9]],
  ] as const)('%s %j → %j', (field, spec, values) => {
    expect(parseCrontabField(field, spec)).toEqual(values);
  });
});
