import { randomUUID } from 'node:crypto';
import { asUtc, ENVELOPE_BOUNDS, ID_PATTERN } from '../envelope/bounds.ts';
import type { EnvelopeInput } from '../envelope/schema.ts';
import { callTimeLimit, groupFieldSchema, signatureSchema } from '../envelope/signature.ts';
import { fromZodIssues, ValidationError } from '../errors.ts';
import * as z from '../schema.ts';

/** ISO text without a zone is UTC, as in the envelope (and as Celery reads a naive eta). */
const dateLike = z.union([z.date(), z.iso.datetime({ offset: true, local: true }), z.number()]);
const nonEmpty = () => z.string().check(z.minLength(1));

/** One call of a task, by name: what `applyAsync` takes, and what a batch is made of. */
export const taskCallSchema = z.strictObject({
  task: nonEmpty(),
  args: z.optional(z.array(z.unknown())),
  kwargs: z.optional(z.record(z.string(), z.unknown())),
  /** Seconds from now before the task may run. */
  countdown: z.optional(z.number().check(z.minimum(0), z.refine(Number.isFinite, 'must be finite'))),
  /** The earliest time the task may run (a Date, ISO text, or epoch milliseconds). */
  eta: z.optional(dateLike),
  /** After this the task is recorded REVOKED instead of running: a Date, ISO text, or seconds from now. */
  expires: z.optional(dateLike),
  queue: z.optional(nonEmpty()),
  taskId: z.optional(
    z
      .string()
      .check(
        z.minLength(1),
        z.maxLength(ENVELOPE_BOUNDS.idChars),
        z.regex(ID_PATTERN, 'may hold only letters, digits and _ . : -'),
      ),
  ),
  retries: z.optional(z.int().check(z.minimum(0))),
  origin: z.optional(z.string()),
  parentId: z.optional(z.string()),
  rootId: z.optional(z.string()),
  periodicTask: z.optional(z.string()),
  /** Seconds; they only shorten the task's own limits (Celery's `time_limit`, `soft_time_limit`). */
  timeLimit: z.optional(callTimeLimit('Hard time limit of this call.')),
  softTimeLimit: z.optional(callTimeLimit('Soft time limit of this call.')),
  /** Sent when this task succeeds, its result prepended to mutable ones (Celery's `link`). */
  link: z.optional(z.array(signatureSchema)),
  /** Sent when this task fails for good, its id as their first argument (Celery's `link_error`). */
  linkError: z.optional(z.array(signatureSchema)),
  /** The rest of a chain, next first: sent one by one as each part succeeds. */
  chain: z.optional(z.array(signatureSchema)),
  /** Membership of a group (Celery's `group_id`, `group_index`). */
  group: z.optional(groupFieldSchema),
});

export type TaskCall = z.input<typeof taskCallSchema>;

function toDate(field: string, value: Date | string | number, now: number, numberIsSeconds: boolean): Date {
  const date =
    value instanceof Date
      ? value
      : typeof value === 'number'
        ? new Date(numberIsSeconds ? now + value * 1000 : value)
        : new Date(asUtc(value));
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
    ...(c.timeLimit !== undefined ? { timeLimit: c.timeLimit } : {}),
    ...(c.softTimeLimit !== undefined ? { softTimeLimit: c.softTimeLimit } : {}),
    ...(c.link?.length ? { link: c.link } : {}),
    ...(c.linkError?.length ? { linkError: c.linkError } : {}),
    ...(c.chain?.length ? { chain: c.chain } : {}),
    ...(c.group ? { group: c.group } : {}),
    sentAt: new Date(now).toISOString(),
  };
}
