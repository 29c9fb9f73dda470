import * as z from '../schema.ts';

const dayList = (min: number, max: number) => z.array(z.int().check(z.gte(min), z.lte(max)));

/**
 * The `beat` object of an envelope sent by a schedule: what the worker needs to run it exactly.
 * It lives with the envelope (the wire contract); `shared/beat` writes it into schedule Inputs.
 */
export const beatEnvelopeFieldSchema = z.strictObject({
  /** The run's scheduled time (`<aws.scheduler.scheduled-time>`): guards and delays count from it. */
  scheduledAt: z.iso.datetime({ offset: true }),
  guard: z.optional(
    z.strictObject({
      timezone: z.string(),
      daysOfMonth: z.optional(dayList(1, 31)),
      daysOfWeek: z.optional(dayList(0, 6)),
    }),
  ),
  expansion: z.optional(
    z.strictObject({ everySeconds: z.int().check(z.positive()), count: z.int().check(z.positive()) }),
  ),
  /**
   * This run's place among the runs one trigger of a sub-minute interval expands into. Runs after
   * the first wait in SQS; the worker checks the periodic task is still enabled before running one.
   */
  run: z.optional(z.int().check(z.gte(0))),
  /** Solar: plan and write the next `at()` after this run. */
  rearm: z.optional(z.literal(true)),
  /** Set `enabled = false` on the periodic task after this run. */
  oneOff: z.optional(z.literal(true)),
  /** Celery's per-run `expires = now + expire_seconds`: the static Input cannot hold the instant. */
  expireSeconds: z.optional(z.int().check(z.positive())),
  /** Message headers and priority of the periodic task; the envelope has no field for them yet. */
  headers: z.optional(z.record(z.string(), z.unknown())),
  priority: z.optional(z.int().check(z.gte(0), z.lte(255))),
});

export type BeatEnvelopeField = z.output<typeof beatEnvelopeFieldSchema>;
