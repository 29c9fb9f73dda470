import * as z from '../schema.ts';
import { TASK_NAME_PATTERN } from '../task/registry.ts';

/**
 * A periodic task: django-celery-beat's `PeriodicTask` with its schedule inline, in camelCase.
 * Exactly one of `crontab`, `interval`, `solar` and `clocked` is set. The schema and the types
 * only: `model.ts` checks a definition (with `translate.ts`, which reads these types).
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

/** Which schedule a definition has. */
export function scheduleKind(definition: Pick<PeriodicTask, ScheduleKind>): ScheduleKind {
  const kind = SCHEDULE_KINDS.find((k) => definition[k] !== undefined);
  if (!kind) throw new Error('a parsed periodic task always has a schedule');
  return kind;
}
