import { parsePeriodicTask } from '../../shared/beat/index.ts';
import { celeryRunTimes, type ReferenceTimes } from './celery-reference.ts';

/**
 * Crontabs and their EventBridge translations, shared by the year-long comparisons with Celery:
 * through `nextFireTimes` (test/unit/beat-translate.test.ts) and through the local scheduler
 * clock and the worker's admission (test/unit/scheduler-clock-year.test.ts).
 */

/**
 * [minute, hour, dayOfWeek, dayOfMonth, monthOfYear, timezone, expected cron(), guard]
 * Guards: 'dow:...' = worker checks days of week (Celery numbering), 'dom:...' = days of month.
 */
export type Row = [string, string, string, string, string, string, string, string?];

export const UTC = 'UTC';
export const NY = 'America/New_York';
const LON = 'Europe/London';
export const LHI = 'Australia/Lord_Howe';
const KOL = 'Asia/Kolkata';

export const rows: Row[] = [
  // every field free, single fields
  ['*', '*', '*', '*', '*', UTC, 'cron(* * * * ? *)'],
  ['0', '*', '*', '*', '*', UTC, 'cron(0 * * * ? *)'],
  ['0', '9', '*', '*', '*', UTC, 'cron(0 9 * * ? *)'],
  ['30', '9', '*', '*', '*', NY, 'cron(30 9 * * ? *)'],
  ['59', '23', '*', '31', '*', UTC, 'cron(59 23 31 * ? *)'],
  ['0', '0', '*', '1-31', '*', UTC, 'cron(0 0 * * ? *)'],
  ['0', '0', '0-6', '*', '*', UTC, 'cron(0 0 * * ? *)'],
  ['0', '0', 'sun-sat', '*', '*', UTC, 'cron(0 0 * * ? *)'],
  // minute steps, lists and ranges
  ['*/15', '*', '*', '*', '*', UTC, 'cron(0/15 * * * ? *)'],
  ['0,15,30,45', '*', '*', '*', '*', UTC, 'cron(0/15 * * * ? *)'],
  ['*/5', '9-17', '*', '*', '*', UTC, 'cron(0/5 9-17 * * ? *)'],
  ['1-30/5', '*', '*', '*', '*', UTC, 'cron(1,6,11,16,21,26 * * * ? *)'],
  ['0,30', '*', '*', '*', '*', UTC, 'cron(0,30 * * * ? *)'],
  ['0-59/7', '12', '*', '*', '*', UTC, 'cron(0/7 12 * * ? *)'],
  ['3-59/7', '12', '*', '*', '*', UTC, 'cron(3/7 12 * * ? *)'],
  ['5,10,15', '6', '*', '*', '*', UTC, 'cron(5,10,15 6 * * ? *)'],
  ['50-10/5', '6', '*', '*', '*', UTC, 'cron(0,5,10,50,55 6 * * ? *)'],
  ['1,13,30-45,50-59/2', '6', '*', '*', '*', UTC, 'cron(1,13,30-45,50/2 6 * * ? *)'],
  ['*/20', '*/6', '*', '*', '*', UTC, 'cron(0/20 0/6 * * ? *)'],
  // hour steps and wrapping ranges
  ['0', '*/2', '*', '*', '*', UTC, 'cron(0 0/2 * * ? *)'],
  ['0', '1-23/2', '*', '*', '*', UTC, 'cron(0 1/2 * * ? *)'],
  ['0', '22-2', '*', '*', '*', UTC, 'cron(0 0-2,22-23 * * ? *)'],
  ['0', '22-2/2', '*', '*', '*', UTC, 'cron(0 0,2,22 * * ? *)'],
  ['0', '0,8-17/2', '*', '*', '*', UTC, 'cron(0 0,8,10,12,14,16 * * ? *)'],
  // day of week: names, numbers, Sunday = 0 → 1
  ['0', '9', 'mon-fri', '*', '*', UTC, 'cron(0 9 ? * 2-6 *)'],
  ['0', '2', 'sun', '*', '*', UTC, 'cron(0 2 ? * 1 *)'],
  ['0', '2', '0', '*', '*', UTC, 'cron(0 2 ? * 1 *)'],
  ['0', '10', 'sat,sun', '*', '*', UTC, 'cron(0 10 ? * 1,7 *)'],
  ['0', '10', 'fri-mon', '*', '*', UTC, 'cron(0 10 ? * 1-2,6-7 *)'],
  ['0', '10', '*/2', '*', '*', UTC, 'cron(0 10 ? * 1,3,5,7 *)'],
  ['0', '10', 'Monday,Wednesday', '*', '*', UTC, 'cron(0 10 ? * 2,4 *)'],
  ['0', '10', 'tue-thu', '*', '*', UTC, 'cron(0 10 ? * 3-5 *)'],
  ['0', '10', '6', '*', '*', UTC, 'cron(0 10 ? * 7 *)'],
  // day of month and month
  ['0', '0', '*', '1', '*', UTC, 'cron(0 0 1 * ? *)'],
  ['0', '0', '*', '1,15', '*', UTC, 'cron(0 0 1,15 * ? *)'],
  ['0', '0', '*', '*/3', '*', UTC, 'cron(0 0 1/3 * ? *)'],
  ['0', '0', '*', '2-30/2', '*', UTC, 'cron(0 0 2/2 * ? *)'],
  ['0', '0', '*', '1-7,15-21', '*', UTC, 'cron(0 0 1-7,15-21 * ? *)'],
  ['0', '0', '*', '28-31', '2', UTC, 'cron(0 0 28-31 2 ? *)'],
  ['0', '0', '*', '1', '*/3', UTC, 'cron(0 0 1 1/3 ? *)'],
  ['0', '0', '*', '1', '2-12/2', UTC, 'cron(0 0 1 2/2 ? *)'],
  ['0', '0', '*', '*', '1,7', UTC, 'cron(0 0 * 1,7 ? *)'],
  ['0', '0', '*', '*', '6-8', UTC, 'cron(0 0 * 6-8 ? *)'],
  // both day fields restricted: Celery needs both; nth weekday where exact, else a guard
  ['0', '9', 'mon', '1-7', '*', UTC, 'cron(0 9 ? * 2#1 *)'],
  ['0', '9', 'sat', '8-14', '*', UTC, 'cron(0 9 ? * 7#2 *)'],
  ['0', '9', 'tue', '15-21', '*/2', UTC, 'cron(0 9 ? 1/2 3#3 *)'],
  ['0', '9', 'wed', '22-28', '*', UTC, 'cron(0 9 ? * 4#4 *)'],
  ['0', '0', 'fri', '13', '*', UTC, 'cron(0 0 13 * ? *)', 'dow:5'],
  ['0', '9', 'mon', '1-7,15-21', '*', UTC, 'cron(0 9 ? * 2 *)', 'dom:1,2,3,4,5,6,7,15,16,17,18,19,20,21'],
  ['0', '9', 'sun', '*/7', '*', UTC, 'cron(0 9 ? * 1 *)', 'dom:1,8,15,22,29'],
  ['0', '9', 'mon-fri', '1-3', '*', UTC, 'cron(0 9 1-3 * ? *)', 'dow:1,2,3,4,5'],
  ['0', '0', 'mon', '29', '2', UTC, 'cron(0 0 29 2 ? *)', 'dow:1'],
  ['0', '9', 'mon-fri', '*/2', '*', LON, 'cron(0 9 1/2 * ? *)', 'dow:1,2,3,4,5'],
  ['0', '8', 'mon-fri', '15', '*', 'America/Los_Angeles', 'cron(0 8 15 * ? *)', 'dow:1,2,3,4,5'],
  // every field restricted
  ['15', '10', 'tue', '1-10', '3-5', UTC, 'cron(15 10 ? 3-5 3 *)', 'dom:1,2,3,4,5,6,7,8,9,10'],
  [
    '*/10',
    '8-18/2',
    'mon,thu',
    '10-25',
    '1-6,9-12',
    NY,
    'cron(0/10 8,10,12,14,16,18 ? 1-6,9-12 2,5 *)',
    'dom:10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25',
  ],
  ['0', '12', 'mon,wed,fri', '*', '1-6', UTC, 'cron(0 12 ? 1-6 2,4,6 *)'],
  // time zones with daylight saving: gaps skipped, repeated hours once
  ['30', '2', '*', '*', '*', NY, 'cron(30 2 * * ? *)'],
  ['30', '1', '*', '*', '*', NY, 'cron(30 1 * * ? *)'],
  ['*/10', '1-2', '*', '*', '*', NY, 'cron(0/10 1-2 * * ? *)'],
  ['0', '2', '*', '8', '3', NY, 'cron(0 2 8 3 ? *)'],
  ['0', '0', '*', '1', '1', NY, 'cron(0 0 1 1 ? *)'],
  ['30', '1', '*', '*', '*', LON, 'cron(30 1 * * ? *)'],
  ['*', '1', '*', '*', '*', LON, 'cron(* 1 * * ? *)'],
  ['0', '*', 'sun', '25-31', '3,10', LON, 'cron(0 * ? 3,10 1 *)', 'dom:25,26,27,28,29,30,31'],
  ['30', '2', 'sun', '*', '*', 'Europe/Berlin', 'cron(30 2 ? * 1 *)'],
  ['0,15', '2', '*', '*', '*', LHI, 'cron(0,15 2 * * ? *)'],
  ['15,45', '1-2', '*', '*', '*', LHI, 'cron(15,45 1-2 * * ? *)'],
  ['*/15', '0-3', 'sun', '*', '*', LHI, 'cron(0/15 0-3 ? * 1 *)'],
  ['30', '2', '*', '*', '*', LHI, 'cron(30 2 * * ? *)'],
  ['*/30', '*', '*', '*', '*', KOL, 'cron(0,30 * * * ? *)'],
  ['0', '9', 'mon-fri', '*', '*', KOL, 'cron(0 9 ? * 2-6 *)'],
  ['45', '23', '*', '1', '*', KOL, 'cron(45 23 1 * ? *)'],
  ['0', '*/3', '*', '*', '*', 'Pacific/Chatham', 'cron(0 0/3 * * ? *)'],
  ['*/20', '5-6', '*', '*', '*', 'Asia/Kathmandu', 'cron(0/20 5-6 * * ? *)'],
  ['0', '6', '*', '*', '*', 'America/Sao_Paulo', 'cron(0 6 * * ? *)'],
];

export const NOW = new Date('2025-12-01T00:00:00Z');
export const YEAR_START = Date.UTC(2026, 0, 1);
export const YEAR_END = Date.UTC(2027, 0, 1);

export function definitionOf(row: Row) {
  const [minute, hour, dayOfWeek, dayOfMonth, monthOfYear, timezone] = row;
  return parsePeriodicTask(
    {
      name: `row ${row.slice(0, 6).join(' ')}`,
      task: 'apps.x.tasks.y',
      crontab: { minute, hour, dayOfWeek, dayOfMonth, monthOfYear, timezone },
    },
    { now: NOW },
  );
}

export function firstDifference(a: readonly number[], b: readonly number[]): string | undefined {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    if (a[i] !== b[i]) {
      const show = (t: number | undefined) => (t === undefined ? 'nothing' : new Date(t).toISOString());
      return `run ${i}: ours ${show(a[i])}, Celery's ${show(b[i])} (ours ${a.length}, Celery's ${b.length})`;
    }
  }
  return undefined;
}

/** Celery's runs of a row's crontab over the year 2026, by the independent reference. */
export function celeryYear(row: Row): ReferenceTimes {
  const [minute, hour, dayOfWeek, dayOfMonth, monthOfYear, timezone] = row;
  return celeryRunTimes({ minute, hour, dayOfWeek, dayOfMonth, monthOfYear }, timezone, YEAR_START, YEAR_END);
}
