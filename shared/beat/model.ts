import { ValidationError } from '../errors.ts';
import * as z from '../schema.ts';
import { TASK_NAME_PATTERN } from '../task/registry.ts';
import {
  CRONTAB_FIELDS,
  type CrontabField,
  CrontabSyntaxError,
  firstMatchingDate,
  parseCrontab,
} from './crontab.ts';
import { translate } from './translate.ts';
import { timeZoneProblem } from './zoned-time.ts';

/**
 * A periodic task: django-celery-beat's `PeriodicTask` with its schedule inline, in camelCase.
 * Exactly one of `crontab`, `interval`, `solar` and `clocked` is set.
 */

const isoDateTime = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time with a zone, such as 2026-01-31T09:00:00Z',
});

const cronField = z._default(
  z.pipe(
    z.union([z.string().check(z.maxLength(240)), z.int()], {
      error: "must be a crontab field such as '*', '9', '*/15', '1-5' or 'mon-fri'",
    }),
    z.transform((v: string | number) => String(v)),
  ),
  '*',
);

export const PERIODS = ['days', 'hours', 'minutes', 'seconds', 'microseconds'] as const;
export const SOLAR_EVENTS = [
  'sunrise',
  'sunset',
  'solar_noon',
  'dawn_astronomical',
  'dawn_nautical',
  'dawn_civil',
  'dusk_astronomical',
  'dusk_nautical',
  'dusk_civil',
] as const;
export const SCHEDULE_KINDS = ['crontab', 'interval', 'solar', 'clocked'] as const;
export type ScheduleKind = (typeof SCHEDULE_KINDS)[number];

const crontabSchema = z.strictObject({
  minute: cronField,
  hour: cronField,
  dayOfWeek: cronField,
  dayOfMonth: cronField,
  monthOfYear: cronField,
  timezone: z.optional(z.string({ error: 'must be an IANA time zone name such as Europe/London' })),
});

const intervalSchema = z.strictObject({
  every: z.int({ error: 'must be a whole number' }).check(z.positive({ error: 'must be at least 1' })),
  period: z.enum(PERIODS, { error: `must be one of ${PERIODS.join(', ')}` }),
});

const solarSchema = z.strictObject({
  event: z.enum(SOLAR_EVENTS, { error: `must be one of ${SOLAR_EVENTS.join(', ')}` }),
  latitude: z
    .number({ error: 'must be a number of degrees' })
    .check(
      z.gte(-90, { error: 'must be between -90 and 90' }),
      z.lte(90, { error: 'must be between -90 and 90' }),
    ),
  longitude: z
    .number({ error: 'must be a number of degrees' })
    .check(
      z.gte(-180, { error: 'must be between -180 and 180' }),
      z.lte(180, { error: 'must be between -180 and 180' }),
    ),
});

const clockedSchema = z.strictObject({ clockedTime: isoDateTime });

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const CONTROL = /[\u0000-\u001f\u007f]/;

export const periodicTaskSchema = z.strictObject({
  name: z.string({ error: 'must be a string' }).check(
    z.minLength(1, { error: 'must not be empty' }),
    z.maxLength(200, { error: 'must be at most 200 characters' }),
    z.refine((v) => v.length === 0 || v.trim().length > 0, { error: 'must not be blank' }),
    z.refine((v) => !CONTROL.test(v), { error: 'must not contain control characters' }),
  ),
  task: z
    .string({ error: 'must be a string' })
    .check(
      z.maxLength(200, { error: 'must be at most 200 characters' }),
      z.regex(TASK_NAME_PATTERN, { error: 'must be a dotted task name like apps.module.tasks.do_thing' }),
    ),
  args: z._default(z.array(z.unknown(), { error: 'must be a JSON array' }), []),
  kwargs: z._default(z.record(z.string(), z.unknown(), { error: 'must be a JSON object' }), {}),
  queue: z.optional(
    z
      .string({ error: 'must be a string' })
      .check(z.regex(/^[A-Za-z0-9_-]{1,80}$/, { error: 'must be 1-80 letters, digits, - or _' })),
  ),
  headers: z._default(z.record(z.string(), z.unknown(), { error: 'must be a JSON object' }), {}),
  priority: z.optional(
    z
      .int({ error: 'must be a whole number' })
      .check(
        z.gte(0, { error: 'must be between 0 and 255' }),
        z.lte(255, { error: 'must be between 0 and 255' }),
      ),
  ),
  expires: z.optional(isoDateTime),
  expireSeconds: z.optional(
    z.int({ error: 'must be a whole number of seconds' }).check(z.positive({ error: 'must be at least 1' })),
  ),
  oneOff: z.optional(z.boolean({ error: 'must be true or false' })),
  startTime: z.optional(isoDateTime),
  enabled: z._default(z.boolean({ error: 'must be true or false' }), true),
  description: z._default(
    z
      .string({ error: 'must be a string' })
      .check(z.maxLength(2000, { error: 'must be at most 2000 characters' })),
    '',
  ),
  lastRunAt: z.optional(isoDateTime),
  totalRunCount: z._default(
    z.int({ error: 'must be a whole number' }).check(z.gte(0, { error: 'must not be negative' })),
    0,
  ),
  dateChanged: z.optional(isoDateTime),
  crontab: z.optional(crontabSchema),
  interval: z.optional(intervalSchema),
  solar: z.optional(solarSchema),
  clocked: z.optional(clockedSchema),
});

/** A definition as users write it (defaults may be left out). */
export type PeriodicTaskInput = z.input<typeof periodicTaskSchema>;
type Parsed = z.output<typeof periodicTaskSchema>;

export type CrontabSchedule = Omit<NonNullable<Parsed['crontab']>, 'timezone'> & { timezone: string };
export type IntervalSchedule = NonNullable<Parsed['interval']>;
export type SolarSchedule = NonNullable<Parsed['solar']>;
export type ClockedSchedule = NonNullable<Parsed['clocked']>;
export type Period = (typeof PERIODS)[number];
export type SolarEvent = (typeof SOLAR_EVENTS)[number];

/** A validated definition: defaults filled in, the crontab's timezone resolved, `oneOff` decided. */
export type PeriodicTask = Omit<Parsed, 'crontab' | 'oneOff'> & {
  oneOff: boolean;
  crontab?: CrontabSchedule;
};

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

/** Which schedule a definition has. */
export function scheduleKind(definition: Pick<PeriodicTask, ScheduleKind>): ScheduleKind {
  const kind = SCHEDULE_KINDS.find((k) => definition[k] !== undefined);
  if (!kind) throw new Error('a parsed periodic task always has a schedule');
  return kind;
}

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
