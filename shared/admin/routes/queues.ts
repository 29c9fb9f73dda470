import { ValidationError } from '../../errors.ts';
import { peekDeadLetters, purgeQueue, redriveDeadLetters } from '../../ops/dlq.ts';
import { queueOverview } from '../../ops/workers.ts';
import * as z from '../../schema.ts';
import { type AdminRoute, defineRoute } from '../route.ts';

const BASE = '/api/queues';

const queueParams = z.strictObject({
  name: z
    .string()
    .check(
      z.minLength(1, { error: 'must not be empty' }),
      z.maxLength(80, { error: 'must be at most 80 characters' }),
    ),
});

/** A purge deletes messages nobody can get back: the body repeats the queue's name. */
const purgeBody = z.strictObject({
  confirm: z.string().check(z.minLength(1, { error: "must repeat the queue's name" }), z.maxLength(80)),
  /** Purge the queue's DLQ instead of the queue. */
  deadLetters: z.optional(z.boolean()),
});

const peekQuery = z.strictObject({
  limit: z._default(
    z.pipe(
      z.string().check(z.regex(/^[0-9]{1,3}$/, { error: 'must be a whole number from 1 to 100' })),
      z.transform((v: string) => Number(v)),
    ),
    10,
  ),
});

const redriveBody = z.optional(
  z.strictObject({
    /** `copy` (default) receives, re-sends and deletes, counting exactly; `move-task` asks SQS to. */
    strategy: z.optional(z.enum(['copy', 'move-task'])),
    limit: z.optional(z.int().check(z.gte(1, { error: 'must be from 1 to 10000' }), z.lte(10_000))),
  }),
);

/** Flower's Broker and Workers pages, and the DLQ actions `celerity` has. */
export const queueRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: BASE,
    role: 'viewer',
    summary:
      "Each route queue: its worker, messages visible, in flight, delayed and scheduled, the oldest's age, its DLQ's depth",
    handle: async ({ ctx }) => ({ body: { items: await queueOverview(ctx) } }),
  }),
  defineRoute({
    method: 'POST',
    path: `${BASE}/{name}/purge`,
    role: 'admin',
    summary: "Delete every message of a queue (or its DLQ); `confirm` must repeat the queue's name",
    params: queueParams,
    body: purgeBody,
    handle: async ({ ctx, params, body }) => {
      if (body.confirm !== params.name) {
        throw ValidationError.of('confirm', `must repeat the queue's name (${params.name}) to purge it`);
      }
      return { body: await purgeQueue(ctx, params.name, { deadLetters: body.deadLetters ?? false }) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${BASE}/{name}/dlq`,
    role: 'viewer',
    summary: "Peek at a queue's dead letters with their reasons (each peek counts as a receive)",
    params: queueParams,
    query: peekQuery,
    handle: async ({ ctx, params, query }) => ({ body: await peekDeadLetters(ctx, params.name, query) }),
  }),
  defineRoute({
    method: 'POST',
    path: `${BASE}/{name}/dlq/redrive`,
    role: 'admin',
    summary: "Send a queue's dead letters back to it",
    params: queueParams,
    body: redriveBody,
    handle: async ({ ctx, params, body }) => ({
      body: await redriveDeadLetters(ctx, params.name, {
        strategy: body?.strategy ?? 'copy',
        ...(body?.limit ? { limit: body.limit } : {}),
      }),
    }),
  }),
];
