import type { PeriodicTask, SolarSchedule } from './definition.ts';
import { runsOf, type ScheduleTiming } from './expression/index.ts';
import { guardAllows } from './guard.ts';
import { expansionOffsets } from './interval.ts';
import { nextSolarEvent } from './solar.ts';
import { type SchedulePlan, translate } from './translate.ts';

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

/** What the sync writes to the Scheduler, as the Scheduler (and the local clock) reads it back. */
function timingOf(plan: SchedulePlan): ScheduleTiming {
  return {
    expression: plan.expression,
    timezone: plan.timezone,
    startDate: plan.startDate,
    endDate: plan.endDate,
  };
}

/**
 * The runs one trigger of the plan becomes in the worker: none on a day its guard refuses, the
 * expansion's messages at their offsets, else the trigger itself.
 */
function workerRuns(plan: SchedulePlan, trigger: number): number[] {
  if (plan.guard && !guardAllows(plan.guard, new Date(trigger))) return [];
  return plan.expansion ? expansionOffsets(plan.expansion).map((s) => trigger + s * 1000) : [trigger];
}

/**
 * The next `count` runs of a periodic task after `after`, as UTC instants: the translated
 * EventBridge plan as the Scheduler fires it (the expression engine the local scheduler clock
 * uses), then as the worker admits it (its day guard, its expansion). Start date, end date
 * (expires), state and one-off honoured. Solar schedules list successive events, as re-arming
 * gives them.
 */
export function nextFireTimes(definition: PeriodicTask, options: NextFireOptions): Date[] {
  const { after, count, before, now = after, horizonYears = DEFAULT_HORIZON_YEARS } = options;
  const plan = translate(definition, { now });
  if (plan.state === 'DISABLED' || count <= 0) return [];
  const limit = definition.oneOff ? 1 : count;
  const from = after.getTime();
  const until = Math.min(
    from + horizonYears * 366 * DAY,
    before?.getTime() ?? Infinity,
    definition.expires ? Date.parse(definition.expires) : Infinity,
  );
  // A trigger before `after` may still have expansion runs after it.
  const reach = plan.expansion ? (plan.expansion.count - 1) * plan.expansion.everySeconds * 1000 : 0;
  const out: Date[] = [];
  let last = from - reach;
  for (const trigger of runsOf(timingOf(plan), from - reach)) {
    if (trigger >= until) break;
    last = trigger;
    for (const t of workerRuns(plan, trigger)) {
      if (t <= from || t >= until) continue;
      if (out.push(new Date(t)) >= limit) return out;
    }
  }
  if (plan.rearm) {
    let event = nextSolarEvent(definition.solar as SolarSchedule, new Date(last));
    while (event && event.getTime() < until && out.push(event) < limit) {
      event = nextSolarEvent(definition.solar as SolarSchedule, event);
    }
  }
  return out;
}
