import * as z from '../schema.ts';
import { boundedTime, ENVELOPE_BOUNDS, timeZoneName } from './bounds.ts';

const dayList = (min: number, max: number) =>
  z.array(z.int().check(z.gte(min), z.lte(max))).check(z.maxLength(max - min + 1));

const expansionSchema = z
  .strictObject({
    everySeconds: z.int().check(z.positive(), z.lte(ENVELOPE_BOUNDS.expansionSpanSeconds)),
    count: z.int().check(z.positive(), z.lte(ENVELOPE_BOUNDS.expansionCount)),
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
    scheduledAt: boundedTime(),
    guard: z.optional(
      z.strictObject({
        timezone: timeZoneName,
        daysOfMonth: z.optional(dayList(1, 31)),
        daysOfWeek: z.optional(dayList(0, 6)),
      }),
    ),
    expansion: z.optional(expansionSchema),
    /**
     * This run's place among the runs one trigger of a sub-minute interval expands into. Runs after
     * the first wait in SQS; the worker checks the periodic task is still enabled before running one.
     */
    run: z.optional(z.int().check(z.gte(0), z.lt(ENVELOPE_BOUNDS.expansionCount))),
    /** Solar: plan and write the next `at()` after this run. */
    rearm: z.optional(z.literal(true)),
    /** Set `enabled = false` on the periodic task after this run. */
    oneOff: z.optional(z.literal(true)),
    /** Celery's per-run `expires = now + expire_seconds`: the static Input cannot hold the instant. */
    expireSeconds: z.optional(z.int().check(z.positive(), z.lte(ENVELOPE_BOUNDS.expireSeconds))),
    /** Message headers and priority of the periodic task; the envelope has no field for them yet. */
    headers: z.optional(z.record(z.string().check(z.maxLength(256)), z.unknown())),
    priority: z.optional(z.int().check(z.gte(0), z.lte(255))),
  })
  .check(
    z.refine((beat) => beat.run === undefined || beat.expansion === undefined, {
      error: 'a run of an expansion carries no expansion of its own',
      path: ['expansion'],
    }),
  );

export type BeatEnvelopeField = z.output<typeof beatEnvelopeFieldSchema>;
