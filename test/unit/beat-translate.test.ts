import { describe, expect, it } from 'vitest';
import { nextFireTimes, translate } from '../../shared/beat/index.ts';
import { celeryRunTimes } from '../support/celery-reference.ts';
import {
  celeryYear,
  definitionOf,
  firstDifference,
  LHI,
  NOW,
  NY,
  type Row,
  rows,
  YEAR_END,
  YEAR_START,
} from '../support/crontab-cases.ts';

function guardText(plan: ReturnType<typeof translate>): string | undefined {
  if (!plan.guard) return undefined;
  return plan.guard.daysOfWeek
    ? `dow:${plan.guard.daysOfWeek.join(',')}`
    : `dom:${plan.guard.daysOfMonth?.join(',')}`;
}

describe('crontab → EventBridge cron', () => {
  it('has at least 60 cases', () => {
    expect(rows.length).toBeGreaterThanOrEqual(60);
  });

  it.each(rows)('%s %s %s %s %s (%s) → %s %s', (...row) => {
    const plan = translate(definitionOf(row), { now: NOW });
    expect(plan.expression).toBe(row[6]);
    expect(plan.timezone).toBe(row[5]);
    expect(guardText(plan)).toBe(row[7]);
    if (plan.guard) expect(plan.guard.timezone).toBe(row[5]);
  });
});

describe('a year of runs: translation + guard vs Celery minute by minute', () => {
  it.each(rows)('%s %s %s %s %s (%s)', (...row) => {
    const celery = celeryYear(row);
    const ours = nextFireTimes(definitionOf(row), {
      after: new Date(YEAR_START - 1),
      before: new Date(YEAR_END),
      count: 600_000,
      now: NOW,
    }).map((t) => t.getTime());
    expect(firstDifference(ours, celery.eventBridge)).toBeUndefined();
    // Where EventBridge and a naive minute walk differ: only second sightings of a wall time
    // in the repeated autumn hour, which EventBridge runs once.
    expect(celery.naive.length - celery.eventBridge.length).toBe(celery.repeated.length);
  });

  it('documents the DST differences: New York 01:30 runs once on 1 Nov 2026, 02:30 never on 8 Mar', () => {
    const row = rows.find((r) => r[0] === '30' && r[1] === '1' && r[5] === NY) as Row;
    const celery = celeryRunTimes({ minute: '30', hour: '1' }, NY, YEAR_START, YEAR_END);
    expect(celery.repeated.map((t) => new Date(t).toISOString())).toEqual(['2026-11-01T06:30:00.000Z']);
    const ours = nextFireTimes(definitionOf(row), {
      after: new Date('2026-10-31T12:00:00Z'),
      count: 2,
      now: NOW,
    });
    expect(ours.map((t) => t.toISOString())).toEqual([
      '2026-11-01T05:30:00.000Z',
      '2026-11-02T06:30:00.000Z',
    ]);
    const gap = rows.find((r) => r[0] === '30' && r[1] === '2' && r[5] === NY) as Row;
    const spring = nextFireTimes(definitionOf(gap), {
      after: new Date('2026-03-07T00:00:00Z'),
      count: 2,
      now: NOW,
    });
    expect(spring.map((t) => t.toISOString())).toEqual([
      '2026-03-07T07:30:00.000Z',
      '2026-03-09T06:30:00.000Z',
    ]);
  });

  it('Lord Howe: a 30-minute change, 02:00-02:29 skipped on 4 Oct, 01:30-01:59 once on 5 Apr', () => {
    const celery = celeryRunTimes({ minute: '15,45', hour: '1-2' }, LHI, YEAR_START, YEAR_END);
    expect(celery.repeated.map((t) => new Date(t).toISOString())).toEqual(['2026-04-04T15:15:00.000Z']);
    const row = rows.find((r) => r[0] === '0,15' && r[5] === LHI) as Row;
    const ours = nextFireTimes(definitionOf(row), {
      after: new Date('2026-10-02T12:00:00Z'),
      count: 4,
      now: NOW,
    });
    // 3 Oct 02:00 and 02:15 at +10:30; nothing on 4 Oct; 5 Oct at +11:00.
    expect(ours.map((t) => t.toISOString())).toEqual([
      '2026-10-02T15:30:00.000Z',
      '2026-10-02T15:45:00.000Z',
      '2026-10-04T15:00:00.000Z',
      '2026-10-04T15:15:00.000Z',
    ]);
  });
});
