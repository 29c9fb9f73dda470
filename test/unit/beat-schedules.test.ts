import { describe, expect, it } from 'vitest';
import {
  expansionOffsets,
  guardAllows,
  nextFireTimes,
  parsePeriodicTask,
  SCHEDULE_NAME_PATTERN,
  scheduleName,
  translate,
} from '../../shared/beat/index.ts';

const NOW = new Date('2026-03-01T12:00:20Z');
const base = { name: 'job', task: 'apps.x.tasks.y' };
const parse = (input: object, now = NOW) => parsePeriodicTask({ ...base, ...input }, { now });
const iso = (dates: Date[]) => dates.map((d) => d.toISOString());

describe('interval → rate()', () => {
  it.each([
    [1, 'days', 'rate(1 day)', undefined],
    [2, 'days', 'rate(2 days)', undefined],
    [1, 'hours', 'rate(1 hour)', undefined],
    [36, 'hours', 'rate(36 hours)', undefined],
    [24, 'hours', 'rate(1 day)', undefined],
    [90, 'minutes', 'rate(90 minutes)', undefined],
    [120, 'minutes', 'rate(2 hours)', undefined],
    [300, 'seconds', 'rate(5 minutes)', undefined],
    [1, 'seconds', 'rate(1 minute)', { everySeconds: 1, count: 60 }],
    [15, 'seconds', 'rate(1 minute)', { everySeconds: 15, count: 4 }],
    [30, 'seconds', 'rate(1 minute)', { everySeconds: 30, count: 2 }],
    [45, 'seconds', 'rate(3 minutes)', { everySeconds: 45, count: 4 }],
    [90, 'seconds', 'rate(3 minutes)', { everySeconds: 90, count: 2 }],
    [7, 'seconds', 'rate(7 minutes)', { everySeconds: 7, count: 60 }],
    [100, 'seconds', 'rate(5 minutes)', { everySeconds: 100, count: 3 }],
    [2_000_000, 'microseconds', 'rate(1 minute)', { everySeconds: 2, count: 30 }],
    [60_000_000, 'microseconds', 'rate(1 minute)', undefined],
  ] as const)('every %d %s → %s', (every, period, expression, expansion) => {
    const plan = translate(parse({ interval: { every, period } }), { now: NOW });
    expect(plan.expression).toBe(expression);
    expect(plan.timezone).toBe('UTC');
    expect(plan.expansion).toEqual(expansion);
  });

  it('every divisor of 60 s fits one minute', () => {
    for (const every of [1, 2, 3, 4, 5, 6, 10, 12, 15, 20, 30]) {
      const plan = translate(parse({ interval: { every, period: 'seconds' } }), { now: NOW });
      expect(plan.expression).toBe('rate(1 minute)');
      expect(expansionOffsets(plan.expansion as never)).toEqual(
        Array.from({ length: 60 / every }, (_, i) => i * every),
      );
    }
  });

  it('runs exactly N seconds apart across triggers, from the next whole minute', () => {
    const task = parse({ interval: { every: 90, period: 'seconds' } });
    expect(iso(nextFireTimes(task, { after: NOW, count: 5 }))).toEqual([
      '2026-03-01T12:02:00.000Z',
      '2026-03-01T12:03:30.000Z',
      '2026-03-01T12:05:00.000Z',
      '2026-03-01T12:06:30.000Z',
      '2026-03-01T12:08:00.000Z',
    ]);
  });

  it('starts as django-celery-beat does: last run + every, else startTime, else dateChanged + every', () => {
    const hourly = { interval: { every: 1, period: 'hours' } };
    expect(
      translate(parse({ ...hourly, lastRunAt: '2026-03-01T11:30:00Z' }), { now: NOW }).startDate,
    ).toEqual(new Date('2026-03-01T12:30:00Z'));
    expect(
      translate(parse({ ...hourly, startTime: '2026-03-05T08:00:00Z' }), { now: NOW }).startDate,
    ).toEqual(new Date('2026-03-05T08:00:00Z'));
    expect(
      translate(parse({ ...hourly, dateChanged: '2026-03-01T11:45:10Z' }), { now: NOW }).startDate,
    ).toEqual(new Date('2026-03-01T12:46:00Z'));
    // Overdue: Celery runs at once; the Scheduler on the next whole minute.
    expect(
      translate(parse({ ...hourly, lastRunAt: '2026-02-01T00:00:00Z' }), { now: NOW }).startDate,
    ).toEqual(new Date('2026-03-01T12:01:00Z'));
  });
});

describe('solar → at(), re-armed', () => {
  it('finds the next sunrise in London, in UTC, and lists the following ones', () => {
    const task = parse({ solar: { event: 'sunrise', latitude: 51.5074, longitude: -0.1278 } });
    const plan = translate(task, { now: NOW });
    expect(plan).toMatchObject({ kind: 'solar', timezone: 'UTC', rearm: true, state: 'ENABLED' });
    expect(plan.expression).toMatch(/^at\(2026-03-02T06:4\d:\d\d\)$/);
    const times = nextFireTimes(task, { after: NOW, count: 3 });
    expect(times[0]).toEqual(plan.at);
    const gaps = times.slice(1).map((t, i) => (t.getTime() - (times[i] as Date).getTime()) / 60_000);
    for (const gap of gaps) expect(gap).toBeGreaterThan(24 * 60 - 5);
  });

  it.each([
    ['solar_noon', 11, 13],
    ['sunset', 17, 18],
    ['dawn_civil', 6, 7],
    ['dusk_nautical', 18, 19],
    ['dawn_astronomical', 4, 6],
    ['dusk_astronomical', 19, 20],
  ] as const)('%s in London on 2 March falls between %d:00 and %d:00 UTC', (event, from, to) => {
    const plan = translate(parse({ solar: { event, latitude: 51.5074, longitude: -0.1278 } }), {
      now: new Date('2026-03-02T00:00:00Z'),
    });
    const hour = (plan.at as Date).getUTCHours();
    expect(hour).toBeGreaterThanOrEqual(from);
    expect(hour).toBeLessThan(to);
  });

  it('steps over polar night to the first sunrise after it (Tromsø)', () => {
    const plan = translate(parse({ solar: { event: 'sunrise', latitude: 69.65, longitude: 18.96 } }), {
      now: new Date('2026-12-01T00:00:00Z'),
    });
    expect((plan.at as Date).toISOString().slice(0, 7)).toBe('2027-01');
  });

  it('steps over polar day to the first sunset after it (Longyearbyen)', () => {
    const plan = translate(parse({ solar: { event: 'sunset', latitude: 78.22, longitude: 15.65 } }), {
      now: new Date('2026-05-01T00:00:00Z'),
    });
    expect((plan.at as Date).toISOString().slice(0, 7)).toBe('2026-08');
  });

  it('at the North Pole every event still comes within a year (the Sun spans ±23.4°), found by a long search', () => {
    const now = new Date('2026-03-01T00:00:00Z');
    for (const event of [
      'sunrise',
      'sunset',
      'dawn_astronomical',
      'dusk_astronomical',
      'solar_noon',
    ] as const) {
      const plan = translate(parse({ solar: { event, latitude: 90, longitude: 0 } }, now), { now });
      expect((plan.at as Date).getTime() - now.getTime()).toBeLessThan(366 * 86_400_000);
    }
  });
});

describe('clocked → at()', () => {
  it('in UTC, one-off, enabled until it has run', () => {
    const task = parse({ clocked: { clockedTime: '2026-05-01T10:00:00+02:00' } });
    expect(translate(task, { now: NOW })).toEqual({
      kind: 'clocked',
      expression: 'at(2026-05-01T08:00:00)',
      timezone: 'UTC',
      at: new Date('2026-05-01T08:00:00Z'),
      state: 'ENABLED',
      oneOff: true,
    });
    expect(iso(nextFireTimes(task, { after: NOW, count: 5 }))).toEqual(['2026-05-01T08:00:00.000Z']);
    const ran = { ...task, totalRunCount: 1 };
    expect(translate(ran, { now: new Date('2026-05-01T08:01:00Z') })).toMatchObject({
      state: 'DISABLED',
      disabledBecause: 'it was one-off and has run',
    });
  });
});

describe('start, end, state and one-off', () => {
  const daily = { crontab: { minute: '0', hour: '9', timezone: 'Europe/London' } };

  it('startTime → StartDate, expires → EndDate, enabled → State', () => {
    const task = parse({ ...daily, startTime: '2026-03-10T00:00:00Z', expires: '2026-03-13T00:00:00Z' });
    const plan = translate(task, { now: NOW });
    expect(plan).toMatchObject({
      startDate: new Date('2026-03-10T00:00:00Z'),
      endDate: new Date('2026-03-13T00:00:00Z'),
      state: 'ENABLED',
    });
    expect(iso(nextFireTimes(task, { after: NOW, count: 10 }))).toEqual([
      '2026-03-10T09:00:00.000Z',
      '2026-03-11T09:00:00.000Z',
      '2026-03-12T09:00:00.000Z',
    ]);
    expect(translate(parse({ ...daily, enabled: false }), { now: NOW }).state).toBe('DISABLED');
    expect(nextFireTimes(parse({ ...daily, enabled: false }), { after: NOW, count: 3 })).toEqual([]);
  });

  it('an expired task is planned disabled without an end date', () => {
    const plan = translate(parse({ ...daily, expires: '2026-03-01T00:00:00Z' }), { now: NOW });
    expect(plan.state).toBe('DISABLED');
    expect(plan.endDate).toBeUndefined();
  });

  it('a past startTime is left out (it changes nothing)', () => {
    expect(
      translate(parse({ ...daily, startTime: '2026-01-01T00:00:00Z' }), { now: NOW }).startDate,
    ).toBeUndefined();
  });

  it('one-off runs once', () => {
    expect(nextFireTimes(parse({ ...daily, oneOff: true }), { after: NOW, count: 5 })).toHaveLength(1);
  });
});

describe('guard', () => {
  it('reads the scheduled time in its own timezone', () => {
    const guard = { timezone: 'America/New_York', daysOfWeek: [5] };
    // Friday 13 March 2026, 00:30 in New York is 04:30 UTC; 03:30 UTC is still Thursday there.
    expect(guardAllows(guard, new Date('2026-03-13T04:30:00Z'))).toBe(true);
    expect(guardAllows(guard, new Date('2026-03-13T03:30:00Z'))).toBe(false);
    expect(
      guardAllows({ timezone: 'Asia/Kolkata', daysOfMonth: [1] }, new Date('2026-02-28T19:00:00Z')),
    ).toBe(true);
  });
});

describe('scheduleName', () => {
  it('is a readable slug with a hash, within the Scheduler limits', () => {
    expect(scheduleName('Send Appointment Reminders')).toMatch(/^Send-Appointment-Reminders-[0-9a-f]{12}$/);
    expect(scheduleName('Café — résumé ✓')).toMatch(/^Cafe-resume-[0-9a-f]{12}$/);
    for (const name of ['x', 'x'.repeat(200), '日本語のタスク', '---', '. .', 'a/b:c@d', 'tab\there']) {
      const schedule = scheduleName(name);
      expect(schedule).toMatch(SCHEDULE_NAME_PATTERN);
      expect(schedule.length).toBeLessThanOrEqual(64);
    }
  });

  it('is stable, and gives names that slug alike different schedules', () => {
    expect(scheduleName('Daily report')).toBe(scheduleName('Daily report'));
    const alike = [
      'Daily report',
      'Daily  report',
      'Daily/report',
      'Daily-report',
      'Daily report!',
      'daily report',
    ];
    expect(new Set(alike.map(scheduleName)).size).toBe(alike.length);
    const long = 'a'.repeat(150);
    expect(scheduleName(`${long}1`)).not.toBe(scheduleName(`${long}2`));
  });

  it('has no collisions across 20,000 similar names', () => {
    const names = Array.from({ length: 20_000 }, (_, i) => `Report ${i % 100} / ${Math.floor(i / 100)}`);
    expect(new Set(names.map(scheduleName)).size).toBe(names.length);
  });
});
