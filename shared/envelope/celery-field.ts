import * as z from '../schema.ts';
import { boundedText } from './bounds.ts';

/**
 * Set on a task that arrived in Celery's own protocol (a kombu message): it keeps that mark over
 * eta holds and retries, so its outcome can also be written where a Celery client reads it.
 */
export const celeryFieldSchema = z
  .strictObject({
    protocol: z.literal(2).check(z.describe("Celery's message protocol version.")),
    replyTo: z.optional(boundedText(256).check(z.describe("kombu's reply_to property."))),
    correlationId: z.optional(boundedText(256).check(z.describe("kombu's correlation_id property."))),
  })
  .check(
    z.describe(
      'Set by the worker on a task that came as a Celery (kombu) message; producers leave it out. See docs/celery-interop.md.',
    ),
  );

export type CeleryField = z.output<typeof celeryFieldSchema>;
