import * as z from '../../schema.ts';

// The success bodies of the periodic-task and registry routes, for the OpenAPI document (the
// handlers return what `shared/ops` returns; these describe it for a page or a client).

const text = z.string();
const optionalText = z.optional(z.string());

/** A listing row (`PeriodicTaskRow`). */
export const periodicRowSchema = z.object({
  name: text,
  task: optionalText,
  enabled: z.optional(z.boolean()),
  kind: z.optional(z.enum(['crontab', 'interval', 'solar', 'clocked'])),
  schedule: optionalText,
  queue: optionalText,
  oneOff: z.optional(z.boolean()),
  nextRun: optionalText,
  lastRunAt: optionalText,
  totalRunCount: z.optional(z.int()),
  description: optionalText,
  error: optionalText,
});

export const periodicPageSchema = z.object({ items: z.array(periodicRowSchema), cursor: optionalText });

/** One periodic task: its whole definition (as `POST` takes it, defaults filled) and its row. */
export const periodicDetailSchema = z.object({
  definition: z.record(z.string(), z.unknown()),
  row: periodicRowSchema,
});

export const previewSchema = z.object({
  schedule: text,
  timezone: text,
  times: z.array(text),
  localTimes: z.array(text),
});

export const registrySchema = z.object({
  items: z.array(
    z.object({
      name: text,
      queue: text,
      maxRetries: z.int(),
      timeLimit: z.number(),
      softTimeLimit: z.optional(z.number()),
      rateLimit: optionalText,
      ignoreResult: z.boolean(),
      trackStarted: z.boolean(),
    }),
  ),
});
