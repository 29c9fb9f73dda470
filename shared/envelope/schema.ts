import * as z from '../schema.ts';
import { beatEnvelopeFieldSchema } from './beat-field.ts';

/** Version of the wire format; a worker refuses versions it does not know, by name. */
export const ENVELOPE_VERSION = 1;

const isoDateTime = z.iso.datetime({
  offset: true,
  error: 'must be an ISO 8601 date-time such as 2026-01-31T09:00:00Z',
});
const text = (max: number, description?: string) =>
  z.string().check(z.maxLength(max), ...(description ? [z.describe(description)] : []));

/**
 * The one wire contract: every task message on every queue is this JSON object. Any language can
 * produce it (see `envelope.schema.json`, generated from this definition).
 */
export const envelopeSchema = z
  .object({
    v: z.literal(ENVELOPE_VERSION, { error: `must be ${ENVELOPE_VERSION}` }),
    id: z
      .string()
      .check(
        z.minLength(1),
        z.maxLength(128),
        z.regex(/^[\w.:-]+$/, 'may hold only letters, digits and _ . : -'),
        z.describe('Task id; Beat puts <aws.scheduler.execution-id> here and the Scheduler fills it in.'),
      ),
    task: z
      .string()
      .check(
        z.regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'must be a dotted task name'),
        z.describe('Registered task name, e.g. apps.notifications.tasks.send_email_notification'),
      ),
    args: z._default(z.array(z.unknown()), []),
    kwargs: z._default(z.record(z.string(), z.unknown()), {}),
    eta: z.optional(isoDateTime.check(z.describe('Do not run before this time.'))),
    expires: z.optional(isoDateTime.check(z.describe('Record REVOKED instead of running after this time.'))),
    retries: z._default(z.int().check(z.minimum(0)), 0),
    origin: z.optional(text(256, 'Who sent it: a host, "scheduler", "retry", "admin", ...')),
    parentId: z.optional(text(128)),
    rootId: z.optional(text(128)),
    periodicTask: z.optional(text(200, 'Name of the periodic task that sent it.')),
    queue: z.optional(text(80, 'Route queue it was sent to.')),
    sentAt: z.optional(isoDateTime),
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
