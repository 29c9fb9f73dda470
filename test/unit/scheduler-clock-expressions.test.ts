import { describe, expect, it } from 'vitest';
import { ScheduleExpressionError } from '../../shared/beat/errors.ts';
import {
  nextRunAfter,
  parseCronExpression,
  runsAfter,
  type ScheduleTiming,
} from '../../shared/beat/expression/index.ts';

const t = (iso: string) => Date.parse(iso);
const iso = (dates: Date[]) => dates.map((d) => d.toISOString().replace('.000Z', 'Z'));
const runs = (timing: ScheduleTiming, after: string, count: number) =>
  iso(runsAfter(timing, t(after), count));
const cron = (expression: string, timezone = 'UTC') => ({ expression: `cron(${expression})`, timezone });

describe('cron() in the EventBridge dialect', () => {
  it('reads day of week 1-7 as SUN-SAT, names and ranges', () => {
    expect(runs(cron('0 8 ? * 1 *'), '2026-02-02T00:00:00Z', 2)).toEqual([
      '2026-02-08T08:00:00Z',
      '2026-02-15T08:00:00Z',
    ]);
    expect(runs(cron('0 9 ? * MON-FRI *'), '2026-01-02T10:00:00Z', 2)).toEqual([
      '2026-01-05T09:00:00Z',
      '2026-01-06T09:00:00Z',
    ]);
    // Wrapping range, as Quartz reads it.
    expect(runs(cron('0 9 ? * FRI-MON *'), '2026-01-01T10:00:00Z', 4)).toEqual([
      '2026-01-02T09:00:00Z',
      '2026-01-03T09:00:00Z',
      '2026-01-04T09:00:00Z',
      '2026-01-05T09:00:00Z',
    ]);
  });

  it('steps and lists in minutes and hours', () => {
    expect(runs(cron('0/20 * * * ? *'), '2026-01-01T00:00:00Z', 3)).toEqual([
      '2026-01-01T00:20:00Z',
      '2026-01-01T00:40:00Z',
      '2026-01-01T01:00:00Z',
    ]);
    expect(runs(cron('5-40/15 6,18 * * ? *'), '2026-01-01T00:00:00Z', 4)).toEqual([
      '2026-01-01T06:05:00Z',
      '2026-01-01T06:20:00Z',
      '2026-01-01T06:35:00Z',
      '2026-01-01T18:05:00Z',
    ]);
  });

  it('L, L-n, W and LW in day of month', () => {
    expect(runs(cron('0 0 L * ? *'), '2026-02-10T00:00:00Z', 1)).toEqual(['2026-02-28T00:00:00Z']);
    expect(runs(cron('0 0 L 2 ? *'), '2027-03-01T00:00:00Z', 1)).toEqual(['2028-02-29T00:00:00Z']);
    expect(runs(cron('0 0 L-2 * ? *'), '2026-02-01T00:00:00Z', 1)).toEqual(['2026-02-26T00:00:00Z']);
    // 1 Aug 2026 is a Saturday: the nearest weekday in the month is Monday the 3rd.
    expect(runs(cron('0 12 1W 8 ? *'), '2026-07-01T00:00:00Z', 1)).toEqual(['2026-08-03T12:00:00Z']);
    expect(runs(cron('0 12 15W 8 ? *'), '2026-07-01T00:00:00Z', 1)).toEqual(['2026-08-14T12:00:00Z']);
    // 31 May 2026 is a Sunday and the month's last day: back to Friday.
    expect(runs(cron('0 12 31W 5 ? *'), '2026-05-01T00:00:00Z', 1)).toEqual(['2026-05-29T12:00:00Z']);
    expect(runs(cron('0 12 LW 1 ? *'), '2026-01-01T00:00:00Z', 1)).toEqual(['2026-01-30T12:00:00Z']);
  });

  it('# and L in day of week', () => {
    expect(runs(cron('0 10 ? * 3#2 *'), '2026-02-01T00:00:00Z', 2)).toEqual([
      '2026-02-10T10:00:00Z',
      '2026-03-10T10:00:00Z',
    ]);
    expect(runs(cron('0 10 ? * 5L *'), '2026-02-01T00:00:00Z', 1)).toEqual(['2026-02-26T10:00:00Z']);
    expect(runs(cron('0 10 ? * L *'), '2026-02-01T00:00:00Z', 1)).toEqual(['2026-02-07T10:00:00Z']);
  });

  it('honours the year field and ends when its years do', () => {
    expect(runs(cron('0 0 1 1 ? 2030-2031'), '2026-06-01T00:00:00Z', 3)).toEqual([
      '2030-01-01T00:00:00Z',
      '2031-01-01T00:00:00Z',
    ]);
  });

  it('refuses what AWS refuses', () => {
    for (const bad of [
      'cron(0 0 * * * *)',
      'cron(0 0 ? * ? *)',
      'cron(0 0 ? * 2/2 *)',
      'cron(60 0 * * ? *)',
      'cron(0 24 * * ? *)',
      'cron(0 0 1W,2 * ? *)',
      'cron(0 0 * * ?)',
      'cron(0 0 ? * 8 *)',
    ]) {
      expect(() => parseCronExpression(bad), bad).toThrow(ScheduleExpressionError);
    }
  });

  // Where the two readers this engine replaced disagreed: the translator's reader shared one name
  // table across fields and allowed / anywhere. AWS's reference gives JAN-DEC to month, SUN-SAT to
  // day of week, and no / in day of week.
  it('reads names only in their own field and refuses / in day of week, as AWS documents', () => {
    expect(() => parseCronExpression('cron(0 0 1 MON ? *)')).toThrow(/month: "MON" is not in 1-12/);
    expect(() => parseCronExpression('cron(0 0 ? JAN JAN *)')).toThrow(/day-of-week: "JAN" is not in 1-7/);
    expect(() => parseCronExpression('cron(0 0 ? * 2-6/2 *)')).toThrow(/day-of-week: \/ is not allowed/);
    expect(parseCronExpression('cron(0 0 ? jan sun *)')).toMatchObject({
      months: new Set([1]),
      dayOfWeek: { kind: 'days', days: new Set([1]) },
    });
  });
});

describe('daylight saving, as EventBridge Scheduler runs cron', () => {
  it('America/New_York: a time in the spring-forward gap is skipped', () => {
    expect(runs(cron('30 2 * * ? *', 'America/New_York'), '2026-03-07T00:00:00Z', 3)).toEqual([
      '2026-03-07T07:30:00Z',
      '2026-03-09T06:30:00Z',
      '2026-03-10T06:30:00Z',
    ]);
    expect(runs(cron('0/30 1-3 8 3 ? *', 'America/New_York'), '2026-03-08T00:00:00Z', 4)).toEqual([
      '2026-03-08T06:00:00Z',
      '2026-03-08T06:30:00Z',
      '2026-03-08T07:00:00Z',
      '2026-03-08T07:30:00Z',
    ]);
  });

  it('America/New_York: a time in the repeated hour runs once', () => {
    expect(runs(cron('30 1 * * ? *', 'America/New_York'), '2026-10-31T12:00:00Z', 2)).toEqual([
      '2026-11-01T05:30:00Z',
      '2026-11-02T06:30:00Z',
    ]);
  });

  it('Europe/London: gap skipped, repeated hour once', () => {
    expect(runs(cron('30 1 * * ? *', 'Europe/London'), '2026-03-28T00:00:00Z', 2)).toEqual([
      '2026-03-28T01:30:00Z',
      '2026-03-30T00:30:00Z',
    ]);
    expect(runs(cron('30 1 * * ? *', 'Europe/London'), '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T00:30:00Z',
      '2026-10-26T01:30:00Z',
    ]);
  });
});

describe('rate()', () => {
  it('counts from StartDate, first run at it, and stops before EndDate', () => {
    const timing = {
      expression: 'rate(10 minutes)',
      startDate: new Date('2026-01-01T00:03:00Z'),
      endDate: new Date('2026-01-01T00:33:00Z'),
    };
    expect(runs(timing, '2025-12-31T00:00:00Z', 1)).toEqual(['2026-01-01T00:03:00Z']);
    expect(runs(timing, '2026-01-01T00:20:00Z', 5)).toEqual(['2026-01-01T00:23:00Z']);
  });

  it('counts from the creation time without a StartDate', () => {
    const timing = { expression: 'rate(1 hour)', createdAt: new Date('2026-01-01T00:00:07Z') };
    expect(runs(timing, '2026-01-01T00:00:07Z', 2)).toEqual(['2026-01-01T01:00:07Z', '2026-01-01T02:00:07Z']);
  });

  it('is elapsed time: rate(1 day) moves an hour on the wall clock across a change', () => {
    const timing = {
      expression: 'rate(1 day)',
      timezone: 'America/New_York',
      startDate: new Date('2026-03-07T14:00:00Z'),
    };
    expect(runs(timing, '2026-03-07T00:00:00Z', 2)).toEqual(['2026-03-07T14:00:00Z', '2026-03-08T14:00:00Z']);
  });

  it('refuses zero and unknown units', () => {
    expect(() => nextRunAfter({ expression: 'rate(0 minutes)', createdAt: new Date() }, 0)).toThrow(
      ScheduleExpressionError,
    );
    expect(() => nextRunAfter({ expression: 'rate(5 seconds)', createdAt: new Date() }, 0)).toThrow(
      ScheduleExpressionError,
    );
  });
});

describe('at()', () => {
  it('is read in the schedule time zone, UTC by default', () => {
    expect(runs({ expression: 'at(2026-07-01T09:00:00)' }, '2026-01-01T00:00:00Z', 2)).toEqual([
      '2026-07-01T09:00:00Z',
    ]);
    expect(
      runs({ expression: 'at(2026-07-01T09:00:00)', timezone: 'Europe/London' }, '2026-01-01T00:00:00Z', 1),
    ).toEqual(['2026-07-01T08:00:00Z']);
    // In the gap: read with the offset before it (03:30 EDT).
    expect(
      runs(
        { expression: 'at(2026-03-08T02:30:00)', timezone: 'America/New_York' },
        '2026-01-01T00:00:00Z',
        1,
      ),
    ).toEqual(['2026-03-08T07:30:00Z']);
  });

  it('runs once, never when already past, and ignores StartDate and EndDate as AWS does', () => {
    const timing = {
      expression: 'at(2026-07-01T09:00:30)',
      startDate: new Date('2026-08-01T00:00:00Z'),
      endDate: new Date('2026-06-01T00:00:00Z'),
    };
    expect(runs(timing, '2026-01-01T00:00:00Z', 1)).toEqual(['2026-07-01T09:00:30Z']);
    expect(runs(timing, '2026-07-01T09:00:30Z', 1)).toEqual([]);
    expect(() => nextRunAfter({ expression: 'at(2026-02-30T00:00:00)' }, 0)).toThrow(ScheduleExpressionError);
  });
});

describe('StartDate and EndDate on cron()', () => {
  it('runs only at or after StartDate and strictly before EndDate', () => {
    const timing = {
      ...cron('0 * * * ? *'),
      startDate: new Date('2026-01-01T05:00:00Z'),
      endDate: new Date('2026-01-01T07:00:00Z'),
    };
    expect(runs(timing, '2026-01-01T00:00:00Z', 5)).toEqual(['2026-01-01T05:00:00Z', '2026-01-01T06:00:00Z']);
  });
});
