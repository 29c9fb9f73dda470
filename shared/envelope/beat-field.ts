import * as z from '../schema.ts';
import { boundedTime, ENVELOPE_BOUNDS, timeZoneName } from './bounds.ts';

const dayList = (min: number, max: number) =>
  z.array(z.int().check(z.gte(min), z.lte(max))).check(z.maxLength(max - min + 1));

const expansionSchema = z
  .strictObject({
    everySeconds: z
      .int()
      .check(
        z.positive(),
        z.lte(ENVELOPE_BOUNDS.expansionSpanSeconds),
        z.describe('Seconds between the runs.'),
      ),
    count: z
      .int()
      .check(
        z.positive(),
        z.lte(ENVELOPE_BOUNDS.expansionCount),
        z.describe('How many runs, the first at once.'),
      ),
  })
  .check(
    z.refine((e) => (e.count - 1) * e.everySeconds <= ENVELOPE_BOUNDS.expansionSpanSeconds, {
      error: `its last run must fall within ${ENVELOPE_BOUNDS.expansionSpanSeconds} s of the trigger (SQS's longest delay)`,
      path: ['count'],
    }),
    z.describe(
      `A sub-minute interval: the trigger becomes count runs everySeconds apart (at most ${ENVELOPE_BOUNDS.expansionCount}, the last within ${ENVELOPE_BOUNDS.expansionSpanSeconds} s).`,
    ),
  );

/**
 * The `beat` object of an envelope sent by a schedule: what the worker needs to run it exactly.
 * It lives with the envelope (the wire contract); `shared/beat` writes it into schedule Inputs.
 */
export const beatEnvelopeFieldSchema = z
  .strictObject({
    /** The run's scheduled time (`<aws.scheduler.scheduled-time>`): guards and delays count from it. */
    scheduledAt: boundedTime(
      "Required in beat. The run's scheduled time (the Scheduler's <aws.scheduler.scheduled-time>).",
    ),
    guard: z.optional(
      z
        .strictObject({
          timezone: timeZoneName.check(z.describe('IANA zone the days are counted in.')),
          daysOfMonth: z.optional(dayList(1, 31).check(z.describe('Days of the month (1-31) to run on.'))),
          daysOfWeek: z.optional(dayList(0, 6).check(z.describe('Days of the week (0 = Sunday) to run on.'))),
        })
        .check(
          z.describe(
            "A crontab's days that EventBridge cannot say: the worker runs the tick only on these days.",
          ),
        ),
    ),
    expansion: z.optional(expansionSchema),
    /**
     * This run's place among the runs one trigger of a sub-minute interval expands into. Runs after
     * the first wait in SQS; the worker checks the periodic task is still enabled before running one.
     */
    run: z.optional(
      z
        .int()
        .check(
          z.gte(0),
          z.lt(ENVELOPE_BOUNDS.expansionCount),
          z.describe("This run's place among the runs of one expanded trigger."),
        ),
    ),
    /** Solar: plan and write the next `at()` after this run. */
    rearm: z.optional(
      z.literal(true).check(z.describe('Solar: plan the next at() schedule after this run.')),
    ),
    /** Set `enabled = false` on the periodic task after this run. */
    oneOff: z.optional(
      z.literal(true).check(z.describe('Disable the periodic task after this run (one_off).')),
    ),
    /** Celery's per-run `expires = now + expire_seconds`: the static Input cannot hold the instant. */
    expireSeconds: z.optional(
      z
        .int()
        .check(
          z.positive(),
          z.lte(ENVELOPE_BOUNDS.expireSeconds),
          z.describe(
            "Seconds after the scheduled time when the run expires (django-celery-beat's expire_seconds).",
          ),
        ),
    ),
    /** Message headers and priority of the periodic task; the envelope has no field for them yet. */
    headers: z.optional(
      z
        .record(z.string().check(z.maxLength(256)), z.unknown())
        .check(z.describe("The periodic task's headers, kept for the run's request.")),
    ),
    priority: z.optional(
      z
        .int()
        .check(z.gte(0), z.lte(255), z.describe("The periodic task's priority (0-255), kept for the run.")),
    ),
  })
  .check(
    z.refine((beat) => beat.run === undefined || beat.expansion === undefined, {
      error: 'a run of an expansion carries no expansion of its own',
      path: ['expansion'],
    }),
  );

export type BeatEnvelopeField = z.output<typeof beatEnvelopeFieldSchema>;
