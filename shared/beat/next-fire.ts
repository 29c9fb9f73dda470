import { cronAllowsDate, parseEventBridgeCron } from './eventbridge-cron.ts';
import type { DayGuard } from './guard.ts';
import type { PeriodicTask, SolarSchedule } from './model.ts';
import { nextSolarEvent } from './solar.ts';
import { type SchedulePlan, translate } from './translate.ts';
import { instantsOf, steadyOffsetForDay, wallTime } from './zoned-time.ts';

export interface NextFireOptions {
  /** List runs strictly after this instant. */
  after: Date;
  /** How many runs to list at most. */
  count: number;
  /** List only runs strictly before this instant. */
  before?: Date;
  /** When the plan is made (start dates of intervals, the next solar event); defaults to `after`. */
  now?: Date;
  /** How many years ahead to look before giving up on finding `count` runs. */
  horizonYears?: number;
}

const DEFAULT_HORIZON_YEARS = 5;
const DAY = 86_400_000;

function guardAllowsDate(guard: DayGuard | undefined, day: number, weekday: number): boolean {
  if (!guard) return true;
  if (guard.daysOfMonth && !guard.daysOfMonth.includes(day)) return false;
  if (guard.daysOfWeek && !guard.daysOfWeek.includes(weekday)) return false;
  return true;
}

/**
 * Cron in a zone as EventBridge Scheduler fires it (its user guide, "Daylight saving time"): a wall
 * time that does not exist (the spring-forward gap) is skipped, and one that happens twice (the
 * repeated autumn hour) fires once, at its first occurrence. Days the guard refuses are left out, as
 * the worker will skip those runs.
 */
function* cronTimes(plan: SchedulePlan, from: number, until: number): Generator<number> {
  const cron = parseEventBridgeCron(plan.expression);
  const tz = plan.timezone;
  const start = wallTime(tz, from - DAY);
  let date = Date.UTC(start.year, start.month - 1, start.day);
  const lastDate = until + 2 * DAY;
  for (; date <= lastDate; date += DAY) {
    const d = new Date(date);
    const year = d.getUTCFullYear();
    const month = d.getUTCMonth() + 1;
    const day = d.getUTCDate();
    const weekday = d.getUTCDay();
    if (!cronAllowsDate(cron, month, day, weekday) || !guardAllowsDate(plan.guard, day, weekday)) continue;
    const offset = steadyOffsetForDay(tz, year, month, day);
    for (const hour of cron.hours) {
      for (const minute of cron.minutes) {
        const t =
          offset !== undefined
            ? Date.UTC(year, month - 1, day, hour, minute) - offset
            : instantsOf(tz, year, month, day, hour, minute)[0];
        if (t !== undefined && t > from) yield t;
      }
    }
  }
}

function* rateTimes(plan: SchedulePlan, periodMs: number): Generator<number> {
  const start = (plan.startDate as Date).getTime();
  const offsets = plan.expansion
    ? Array.from(
        { length: plan.expansion.count },
        (_, i) => i * (plan.expansion as { everySeconds: number }).everySeconds * 1000,
      )
    : [0];
  for (let trigger = start; ; trigger += periodMs) {
    for (const offset of offsets) yield trigger + offset;
  }
}

function ratePeriodMs(expression: string): number {
  const match = /^rate\((\d+) (minute|hour|day)s?\)$/.exec(expression);
  if (!match) throw new RangeError(`${expression} is not a rate()`);
  const unit = { minute: 60_000, hour: 3_600_000, day: DAY }[match[2] as 'minute' | 'hour' | 'day'];
  return Number(match[1]) * unit;
}

/**
 * The next `count` runs of a periodic task after `after`, as UTC instants: the translated
 * EventBridge plan as the Scheduler fires it, with the guard's refusals left out and the
 * expansion's extra messages put in; start date, end date (expires), state and one-off honoured.
 * Solar schedules list successive events, as re-arming gives them.
 */
export function nextFireTimes(definition: PeriodicTask, options: NextFireOptions): Date[] {
  const { after, count, before, now = after, horizonYears = DEFAULT_HORIZON_YEARS } = options;
  const plan = translate(definition, { now });
  if (plan.state === 'DISABLED' || count <= 0) return [];
  const limit = definition.oneOff ? 1 : count;
  const from = Math.max(after.getTime(), (plan.startDate?.getTime() ?? 0) - 1);
  const until = Math.min(
    after.getTime() + horizonYears * 366 * DAY,
    plan.endDate?.getTime() ?? Infinity,
    before?.getTime() ?? Infinity,
  );
  const expires = definition.expires ? Date.parse(definition.expires) : Infinity;
  const out: Date[] = [];
  const take = (t: number): boolean => {
    if (t >= until || t >= expires) return false;
    if (t > from) out.push(new Date(t));
    return out.length < limit;
  };

  if (plan.kind === 'crontab') {
    for (const t of cronTimes(plan, from, until)) if (!take(t)) break;
  } else if (plan.kind === 'interval') {
    for (const t of rateTimes(plan, ratePeriodMs(plan.expression))) if (!take(t)) break;
  } else if (plan.kind === 'clocked') {
    take((plan.at as Date).getTime());
  } else {
    let event: Date | undefined = plan.at;
    while (event && take(event.getTime())) event = nextSolarEvent(definition.solar as SolarSchedule, event);
  }
  return out;
}
