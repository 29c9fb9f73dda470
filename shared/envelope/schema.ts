import * as z from '../schema.ts';
import { beatEnvelopeFieldSchema } from './beat-field.ts';
import { ENVELOPE_BOUNDS as B, boundedText, boundedTime } from './bounds.ts';

/** Version of the wire format; a worker refuses versions it does not know, by name. */
export const ENVELOPE_VERSION = 1;

const ID_PATTERN = /^[\w.:-]+$/;
const taskId = (description?: string) =>
  z
    .string()
    .check(
      z.minLength(1),
      z.maxLength(B.idChars),
      z.regex(ID_PATTERN, 'may hold only letters, digits and _ . : -'),
      ...(description ? [z.describe(description)] : []),
    );
const text = (max: number, description?: string) =>
  boundedText(max).check(...(description ? [z.describe(description)] : []));

/**
 * The one wire contract: every task message on every queue is this JSON object. Any language can
 * produce it (see `envelope.schema.json`, generated from this definition). Every field is bounded
 * (`bounds.ts`): a message cannot ask for unbounded work, an impossible time or an unknown zone.
 */
export const envelopeSchema = z
  .object({
    v: z.literal(ENVELOPE_VERSION, { error: `must be ${ENVELOPE_VERSION}` }),
    id: taskId('Task id; Beat puts <aws.scheduler.execution-id> here and the Scheduler fills it in.'),
    task: z
      .string()
      .check(
        z.maxLength(B.taskNameChars),
        z.regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'must be a dotted task name'),
        z.describe('Registered task name, e.g. apps.notifications.tasks.send_email_notification'),
      ),
    args: z._default(z.array(z.unknown()), []),
    kwargs: z._default(z.record(z.string(), z.unknown()), {}),
    eta: z.optional(boundedTime('Do not run before this time.')),
    expires: z.optional(boundedTime('Record REVOKED instead of running after this time.')),
    retries: z._default(z.int().check(z.minimum(0), z.maximum(B.retries)), 0),
    origin: z.optional(text(B.textBytes, 'Who sent it: a host, "scheduler", "retry", "admin", ...')),
    parentId: z.optional(text(B.idChars)),
    rootId: z.optional(text(B.idChars)),
    periodicTask: z.optional(text(B.taskNameChars, 'Name of the periodic task that sent it.')),
    queue: z.optional(text(B.queueChars, 'Route queue it was sent to.')),
    sentAt: z.optional(boundedTime()),
    beat: z.optional(
      beatEnvelopeFieldSchema.check(
        z.describe("Set by a periodic task's schedule: what the worker needs to run it exactly."),
      ),
    ),
  })
  .check(z.describe('Celerity task message, version 1'));

/** An envelope as producers write it: defaults may be left out. */
export type EnvelopeInput = z.input<typeof envelopeSchema>;

/** An envelope as the worker sees it, defaults filled in. */
export type Envelope = z.output<typeof envelopeSchema>;
