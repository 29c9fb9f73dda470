import { z } from 'zod';

/** Version of the wire format; a worker refuses versions it does not know, by name. */
export const ENVELOPE_VERSION = 1;

const isoDateTime = z.iso.datetime({
  offset: true,
  message: 'must be an ISO 8601 date-time such as 2026-01-31T09:00:00Z',
});

/**
 * The one wire contract: every task message on every queue is this JSON object. Any language can
 * produce it (see `envelope.schema.json`, generated from this definition).
 */
export const envelopeSchema = z
  .object({
    v: z.literal(ENVELOPE_VERSION, { message: `must be ${ENVELOPE_VERSION}` }),
    id: z
      .string()
      .min(1)
      .max(128)
      .regex(/^[\w.:-]+$/, 'may hold only letters, digits and _ . : -')
      .describe('Task id; Beat puts <aws.scheduler.execution-id> here and the Scheduler fills it in.'),
    task: z
      .string()
      .regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'must be a dotted task name')
      .describe('Registered task name, e.g. apps.notifications.tasks.send_email_notification'),
    args: z.array(z.unknown()).default([]),
    kwargs: z.record(z.string(), z.unknown()).default({}),
    eta: isoDateTime.optional().describe('Do not run before this time.'),
    expires: isoDateTime.optional().describe('Record REVOKED instead of running after this time.'),
    retries: z.number().int().min(0).default(0),
    origin: z
      .string()
      .max(256)
      .optional()
      .describe('Who sent it: a host, "scheduler", "retry", "admin", ...'),
    parentId: z.string().max(128).optional(),
    rootId: z.string().max(128).optional(),
    periodicTask: z.string().max(200).optional().describe('Name of the periodic task that sent it.'),
    queue: z.string().max(80).optional().describe('Route queue it was sent to.'),
    sentAt: isoDateTime.optional(),
  })
  .describe('Celerity task message, version 1');

/** An envelope as producers write it: defaults may be left out. */
export type EnvelopeInput = z.input<typeof envelopeSchema>;

/** An envelope as the worker sees it, defaults filled in. */
export type Envelope = z.output<typeof envelopeSchema>;
