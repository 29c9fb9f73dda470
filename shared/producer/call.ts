import { randomUUID } from 'node:crypto';
import { z } from 'zod';
import type { EnvelopeInput } from '../envelope/schema.ts';
import { fromZodIssues, ValidationError } from '../errors.ts';

const dateLike = z.union([z.date(), z.iso.datetime({ offset: true }), z.number()]);

/** One call of a task, by name: what `applyAsync` takes, and what a batch is made of. */
export const taskCallSchema = z.strictObject({
  task: z.string().min(1),
  args: z.array(z.unknown()).optional(),
  kwargs: z.record(z.string(), z.unknown()).optional(),
  /** Seconds from now before the task may run. */
  countdown: z.number().min(0).refine(Number.isFinite, 'must be finite').optional(),
  /** The earliest time the task may run (a Date, ISO text, or epoch milliseconds). */
  eta: dateLike.optional(),
  /** After this the task is recorded REVOKED instead of running: a Date, ISO text, or seconds from now. */
  expires: dateLike.optional(),
  queue: z.string().min(1).optional(),
  taskId: z.string().min(1).max(128).optional(),
  retries: z.number().int().min(0).optional(),
  origin: z.string().optional(),
  parentId: z.string().optional(),
  rootId: z.string().optional(),
  periodicTask: z.string().optional(),
});

export type TaskCall = z.input<typeof taskCallSchema>;

function toDate(field: string, value: Date | string | number, now: number, numberIsSeconds: boolean): Date {
  const date =
    value instanceof Date
      ? value
      : typeof value === 'number'
        ? new Date(numberIsSeconds ? now + value * 1000 : value)
        : new Date(value);
  if (Number.isNaN(date.getTime())) throw ValidationError.of(field, 'is not a valid date');
  return date;
}

/** Validates a call and turns it into an envelope (still unrouted). */
export function callToEnvelope(call: TaskCall, now: number): EnvelopeInput {
  const parsed = taskCallSchema.safeParse(call);
  if (!parsed.success) throw fromZodIssues('call', parsed.error.issues);
  const c = parsed.data;
  if (c.countdown !== undefined && c.eta !== undefined) {
    throw ValidationError.of('call.countdown', 'give either countdown or eta, not both');
  }
  const eta =
    c.countdown !== undefined && c.countdown > 0
      ? new Date(now + c.countdown * 1000)
      : c.eta !== undefined
        ? toDate('call.eta', c.eta, now, false)
        : undefined;
  const expires = c.expires === undefined ? undefined : toDate('call.expires', c.expires, now, true);
  const id = c.taskId ?? randomUUID();
  return {
    v: 1,
    id,
    task: c.task,
    args: c.args ?? [],
    kwargs: c.kwargs ?? {},
    ...(eta ? { eta: eta.toISOString() } : {}),
    ...(expires ? { expires: expires.toISOString() } : {}),
    retries: c.retries ?? 0,
    ...(c.origin ? { origin: c.origin } : {}),
    ...(c.parentId ? { parentId: c.parentId } : {}),
    rootId: c.rootId ?? id,
    ...(c.periodicTask ? { periodicTask: c.periodicTask } : {}),
    ...(c.queue ? { queue: c.queue } : {}),
    sentAt: new Date(now).toISOString(),
  };
}
