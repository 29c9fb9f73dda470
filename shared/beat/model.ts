import { ValidationError } from '../errors.ts';
import type * as z from '../schema.ts';
import { CRONTAB_FIELDS, type CrontabField, firstMatchingDate, parseCrontab } from './crontab.ts';
import {
  type CrontabSchedule,
  type PeriodicTask,
  periodicTaskSchema,
  SCHEDULE_KINDS,
  type ScheduleKind,
} from './definition.ts';
import { CrontabSyntaxError } from './errors.ts';
import { translate } from './translate.ts';
import { timeZoneProblem } from './zoned-time.ts';

/**
 * Checking a periodic task definition. The schema and types live in `definition.ts`, below
 * `translate.ts` (which this module calls), and are re-exported here: callers import the model from
 * one place, and no module of the folder imports one that imports it back.
 */
export * from './definition.ts';

export interface ParseOptions {
  /** The time the definition is judged at: a clocked time must come after it. For a stored
   * definition pass its `dateChanged`, the time it was written. */
  now: Date;
  /** Whether a task name is registered; when given, unknown names are refused. */
  knownTask?: (name: string) => boolean;
  /** Timezone for crontabs that name none (the app's configured timezone). */
  defaultTimezone?: string;
  /**
   * A stored definition is read, not written: a clocked time that has passed since (it ran, and a
   * one-off disable changed `dateChanged` after it) is history, not an error. @defaultValue false
   */
  stored?: boolean;
}

const DEFAULT_TIMEZONE = 'UTC';

type Issue = { field: string; message: string };

function zodIssues(issues: readonly z.core.$ZodIssue[]): Issue[] {
  const out: Issue[] = [];
  for (const issue of issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) {
        out.push({ field: [...path, key].join('.'), message: 'is not a field of a periodic task' });
      }
    } else {
      out.push({ field: path.join('.') || 'definition', message: issue.message });
    }
  }
  return out;
}

function presentSchedules(input: Record<string, unknown>): ScheduleKind[] {
  return SCHEDULE_KINDS.filter((k) => input[k] !== undefined && input[k] !== null);
}

function withoutNulls(input: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(input).filter(([, v]) => v !== null));
}

function crontabIssues(crontab: CrontabSchedule): Issue[] {
  const issues: Issue[] = [];
  for (const field of Object.keys(CRONTAB_FIELDS) as CrontabField[]) {
    try {
      parseCrontab({ [field]: crontab[field] });
    } catch (error) {
      if (!(error instanceof CrontabSyntaxError)) throw error;
      issues.push({ field: `crontab.${field}`, message: error.message });
    }
  }
  const tzProblem = timeZoneProblem(crontab.timezone);
  if (tzProblem) issues.push({ field: 'crontab.timezone', message: tzProblem });
  if (issues.length === 0 && !firstMatchingDate(parseCrontab(crontab), { year: 2000, month: 1, day: 1 })) {
    issues.push({
      field: 'crontab',
      message: `never runs: no date has month ${crontab.monthOfYear}, day of month ${crontab.dayOfMonth} and day of week ${crontab.dayOfWeek} together (Celery needs all three to match)`,
    });
  }
  return issues;
}

/**
 * Validates a periodic task definition with the one schema, and checks what the schema cannot:
 * exactly one schedule, Celery's crontab syntax, the timezone, the task name, dates in order, and
 * that EventBridge Scheduler can run the schedule exactly. Throws `ValidationError` naming each
 * field and why; returns the definition with defaults filled in.
 */
export function parsePeriodicTask(input: unknown, options: ParseOptions): PeriodicTask {
  const { now, knownTask, defaultTimezone = DEFAULT_TIMEZONE } = options;
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    throw ValidationError.of('definition', 'must be a JSON object');
  }
  const raw = withoutNulls(input as Record<string, unknown>);
  const issues: Issue[] = [];
  const kinds = presentSchedules(raw);
  if (kinds.length !== 1) {
    issues.push({
      field: 'schedule',
      message: `give exactly one of ${SCHEDULE_KINDS.join(', ')} (got ${kinds.length ? kinds.join(' and ') : 'none'})`,
    });
  }
  const result = periodicTaskSchema.safeParse(raw);
  if (!result.success) throw new ValidationError([...issues, ...zodIssues(result.error.issues)]);
  if (issues.length) throw new ValidationError(issues);

  const parsed = result.data;
  if (knownTask && !knownTask(parsed.task)) {
    issues.push({ field: 'task', message: `${parsed.task} is not a registered task` });
  }
  if (parsed.startTime && parsed.expires && Date.parse(parsed.expires) <= Date.parse(parsed.startTime)) {
    issues.push({
      field: 'expires',
      message: `${parsed.expires} is not after startTime ${parsed.startTime}`,
    });
  }
  if (parsed.clocked) {
    if (!options.stored && Date.parse(parsed.clocked.clockedTime) <= now.getTime()) {
      issues.push({
        field: 'clocked.clockedTime',
        message: `${parsed.clocked.clockedTime} is not in the future (now is ${now.toISOString()})`,
      });
    }
    if (parsed.oneOff === false) {
      issues.push({
        field: 'oneOff',
        message: 'a clocked schedule runs once, so oneOff must be true (as django-celery-beat requires)',
      });
    }
  }
  const crontab = parsed.crontab && {
    ...parsed.crontab,
    timezone: parsed.crontab.timezone ?? defaultTimezone,
  };
  const scheduleIssues = crontab ? crontabIssues(crontab) : [];
  issues.push(...scheduleIssues);

  const { crontab: _given, ...rest } = parsed;
  const definition: PeriodicTask = {
    ...rest,
    oneOff: parsed.oneOff ?? parsed.clocked !== undefined,
    ...(crontab ? { crontab } : {}),
  };
  // What EventBridge cannot run exactly is refused now, before anything is written.
  if (scheduleIssues.length === 0) {
    try {
      translate(definition, { now });
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues);
    }
  }
  if (issues.length) throw new ValidationError(issues);
  return definition;
}
