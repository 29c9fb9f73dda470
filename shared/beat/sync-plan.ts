import type { GetScheduleOutput } from '@aws-sdk/client-scheduler';
import type { PeriodicTask } from './definition.ts';
import { scheduleName } from './naming.ts';
import { type ScheduleRequest, type ScheduleTarget, scheduleRequest } from './schedule-input.ts';
import { translate } from './translate.ts';

/**
 * The fields of a periodic task that its schedule is built from (expression, dates, state, the
 * envelope in the Input). A change to any other field — `lastRunAt`, `totalRunCount`,
 * `dateChanged`, `description` (not copied to the schedule: see `scheduleDescription`) — needs no
 * Scheduler call.
 */
export const SCHEDULE_RELEVANT_FIELDS = [
  'name',
  'task',
  'args',
  'kwargs',
  'queue',
  'headers',
  'priority',
  'expires',
  'expireSeconds',
  'startTime',
  'enabled',
  'oneOff',
  'crontab',
  'interval',
  'solar',
  'clocked',
] as const satisfies readonly (keyof PeriodicTask)[];

export type ScheduleRelevantField = (typeof SCHEDULE_RELEVANT_FIELDS)[number];

export type SyncAction =
  | { kind: 'create'; reason: string; request: ScheduleRequest }
  /** `replaces`: the old schedule's name when the periodic task was renamed; delete it after. */
  | {
      kind: 'update';
      reason: string;
      request: ScheduleRequest;
      changed: ScheduleRelevantField[];
      replaces?: string;
    }
  | { kind: 'delete'; reason: string; request: { Name: string; GroupName: string } }
  | { kind: 'none'; reason: string };

/** JSON with object keys sorted, so that attribute order from DynamoDB never looks like a change. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : 1)))
      : v,
  );
}

/** The schedule-relevant fields whose values differ between two images. */
export function changedFields(oldImage: PeriodicTask, newImage: PeriodicTask): ScheduleRelevantField[] {
  return SCHEDULE_RELEVANT_FIELDS.filter(
    (field) => canonicalJson(oldImage[field] ?? null) !== canonicalJson(newImage[field] ?? null),
  );
}

/**
 * What one stream record means for the schedule. Images are parsed definitions (parse stored ones
 * with `now = dateChanged`). Idempotent by construction: the request is the whole desired schedule.
 * May throw `ValidationError` from `translate` (e.g. a solar event that no longer happens).
 */
export function planSync(
  oldImage: PeriodicTask | undefined,
  newImage: PeriodicTask | undefined,
  options: ScheduleTarget,
): SyncAction {
  if (!newImage) {
    if (!oldImage) return { kind: 'none', reason: 'no image on either side' };
    return {
      kind: 'delete',
      reason: `periodic task "${oldImage.name}" was removed`,
      request: { Name: scheduleName(oldImage.name), GroupName: options.groupName },
    };
  }
  const request = () => scheduleRequest(newImage, translate(newImage, { now: options.now }), options);
  if (!oldImage) {
    return { kind: 'create', reason: `periodic task "${newImage.name}" was added`, request: request() };
  }
  const changed = changedFields(oldImage, newImage);
  if (changed.length === 0) {
    return { kind: 'none', reason: 'no schedule-relevant field changed' };
  }
  const oldName = scheduleName(oldImage.name);
  const built = request();
  return {
    kind: 'update',
    reason: `changed: ${changed.join(', ')}`,
    request: built,
    changed,
    ...(oldName !== built.Name ? { replaces: oldName } : {}),
  };
}

/**
 * The attribute by which a stream record tells its writer. The worker's run-statistics update sets
 * it to `value` (SET lastRunAt, totalRunCount, lastWrite = 'run', nothing else); every definition
 * write sets it to anything else (e.g. 'definition'). A one-off task disabled after its run is a
 * definition write (`enabled` changes), so it must not carry 'run'.
 */
export const RUN_STATS_MARKER = { attribute: 'lastWrite', value: 'run' } as const;

/**
 * The event source mapping's `FilterCriteria`. Lambda filter patterns match each field against
 * constants (equals, anything-but, prefix, numeric, exists); they cannot compare `OldImage` with
 * `NewImage`, so "only run statistics changed" cannot be said in a pattern, whatever the field
 * list. What they can drop is a MODIFY whose new image carries the run-statistics marker: such a
 * record is, by the worker's update expression, a change to statistics only. Patterns are ORed:
 * INSERT and REMOVE always pass; MODIFY passes unless the marker says 'run'. `planSync` still
 * compares `SCHEDULE_RELEVANT_FIELDS` and is the guarantee of zero Scheduler calls.
 */
export function streamFilterPatterns(marker: { attribute: string; value: string } = RUN_STATS_MARKER): {
  Filters: { Pattern: string }[];
} {
  const modifyWhere = (rule: unknown) => ({
    eventName: ['MODIFY'],
    dynamodb: { NewImage: { [marker.attribute]: { S: [rule] } } },
  });
  return {
    Filters: [
      { eventName: ['INSERT', 'REMOVE'] },
      modifyWhere({ 'anything-but': [marker.value] }),
      // anything-but matches only a present field; items written before the marker existed have none.
      modifyWhere({ exists: false }),
    ].map((pattern) => ({ Pattern: JSON.stringify(pattern) })),
  };
}

/** A schedule as GetSchedule returns it. */
export type ActualSchedule = Pick<
  GetScheduleOutput,
  | 'Name'
  | 'ScheduleExpression'
  | 'ScheduleExpressionTimezone'
  | 'StartDate'
  | 'EndDate'
  | 'State'
  | 'Description'
  | 'Target'
  | 'FlexibleTimeWindow'
  | 'ActionAfterCompletion'
>;

export interface ScheduleDiff {
  /** In the table, not in the group (never created, or deleted by hand). */
  create: ScheduleRequest[];
  /** Different from what the table says (edited by hand, or a missed stream record). */
  update: { request: ScheduleRequest; differences: string[] }[];
  /** In the group, not in the table. */
  delete: string[];
}

const RATE = /^rate\((\d+) (minute|hour|day)s?\)$/;
const UNIT_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

function periodMs(expression: string): number | undefined {
  const match = RATE.exec(expression);
  return match ? Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS] : undefined;
}

/**
 * Whether two start dates give the same runs from now on. A `rate()` fires at StartDate + k·period,
 * and `translate` recomputes the first run at each call, so a running schedule whose past start is
 * in phase with the desired one is the same schedule. For cron and at(), a past start has no effect.
 */
function sameStart(desired: ScheduleRequest, actual: Date | undefined, now: Date): boolean {
  const period = periodMs(desired.ScheduleExpression);
  const want = desired.StartDate?.getTime();
  const have = actual?.getTime();
  if (period !== undefined && want !== undefined && have !== undefined) {
    return have <= want && (want - have) % period === 0;
  }
  const effective = (t: number | undefined) => (t !== undefined && t > now.getTime() ? t : undefined);
  return period === undefined ? effective(want) === effective(have) : want === have;
}

function sameJson(a: string | undefined, b: string | undefined): boolean {
  if (a === b) return true;
  if (a === undefined || b === undefined) return false;
  try {
    return canonicalJson(JSON.parse(a)) === canonicalJson(JSON.parse(b));
  } catch {
    return false;
  }
}

/** The fields in which a schedule differs from the request that would write it. */
export function scheduleDifferences(desired: ScheduleRequest, actual: ActualSchedule, now: Date): string[] {
  const diffs: string[] = [];
  const check = (field: string, want: unknown, have: unknown) => {
    if (canonicalJson(want ?? null) !== canonicalJson(have ?? null)) diffs.push(field);
  };
  check('ScheduleExpression', desired.ScheduleExpression, actual.ScheduleExpression);
  check(
    'ScheduleExpressionTimezone',
    desired.ScheduleExpressionTimezone,
    actual.ScheduleExpressionTimezone ?? 'UTC',
  );
  check('State', desired.State, actual.State ?? 'ENABLED');
  if (!sameStart(desired, actual.StartDate, now)) diffs.push('StartDate');
  check('EndDate', desired.EndDate?.getTime(), actual.EndDate?.getTime());
  check('Description', desired.Description, actual.Description);
  check('FlexibleTimeWindow', desired.FlexibleTimeWindow?.Mode, actual.FlexibleTimeWindow?.Mode);
  check('ActionAfterCompletion', desired.ActionAfterCompletion, actual.ActionAfterCompletion ?? 'NONE');
  const want = desired.Target;
  const have = actual.Target;
  check('Target.Arn', want.Arn, have?.Arn);
  check('Target.RoleArn', want.RoleArn, have?.RoleArn);
  check('Target.DeadLetterConfig', want.DeadLetterConfig?.Arn, have?.DeadLetterConfig?.Arn);
  check('Target.RetryPolicy', want.RetryPolicy, have?.RetryPolicy);
  if (!sameJson(want.Input, have?.Input)) diffs.push('Target.Input');
  return diffs;
}

/**
 * Reconcile: what to create, update and delete so that the schedule group matches the table.
 * `desired` maps schedule names to requests (from `scheduleRequest` over every periodic task),
 * `actual` maps the group's schedule names to GetSchedule outputs.
 */
export function diffSchedules(
  desired: ReadonlyMap<string, ScheduleRequest>,
  actual: ReadonlyMap<string, ActualSchedule>,
  options: { now: Date },
): ScheduleDiff {
  const diff: ScheduleDiff = { create: [], update: [], delete: [] };
  for (const [name, request] of desired) {
    const schedule = actual.get(name);
    if (!schedule) {
      diff.create.push(request);
      continue;
    }
    const differences = scheduleDifferences(request, schedule, options.now);
    if (differences.length) diff.update.push({ request, differences });
  }
  for (const name of actual.keys()) if (!desired.has(name)) diff.delete.push(name);
  return diff;
}
