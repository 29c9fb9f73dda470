import * as z from '../schema.ts';
import { ENVELOPE_BOUNDS as B, boundedText, boundedTime, ID_PATTERN } from './bounds.ts';

const described = <T extends z.ZodMiniType>(schema: T, description: string) =>
  schema.check(z.describe(description)) as T;

export const taskIdSchema = z
  .string()
  .check(
    z.minLength(1),
    z.maxLength(B.idChars),
    z.regex(ID_PATTERN, 'may hold only letters, digits and _ . : -'),
  );

export const taskNameSchema = z
  .string()
  .check(
    z.maxLength(B.taskNameChars),
    z.regex(/^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/, 'must be a dotted task name'),
  );

/** Seconds of a per-call time limit: it can only shorten the task's own (the Lambda timeout derives from that). */
export const callTimeLimit = (description: string) =>
  described(
    z.number().check(z.positive(), z.lte(B.timeLimitSeconds)),
    `${description} Seconds, > 0; the worker keeps the shorter of this and the task's own limit.`,
  );

/**
 * What a signature and an envelope share: a task call with its id fixed. The id is given when the
 * canvas is applied, so every part has its AsyncResult before it runs and a follow-up sent twice
 * is the same task (the worker's id check makes the second a no-op).
 */
const callFields = {
  task: described(taskNameSchema, 'Registered task name, dotted.'),
  id: described(taskIdSchema, 'The task id this part runs under, fixed when the canvas is applied.'),
  args: z.optional(
    described(z.array(z.unknown()), 'Positional arguments; a parent result goes first unless immutable.'),
  ),
  kwargs: z.optional(described(z.record(z.string(), z.unknown()), 'Keyword arguments.')),
  immutable: z.optional(
    described(z.boolean(), "Celery's .si(): the parent's result is not prepended to args."),
  ),
  queue: z.optional(described(boundedText(B.queueChars), 'Route queue; left out, the routing chooses.')),
  countdown: z.optional(
    described(
      z.number().check(z.gte(0), z.lte(B.countdownSeconds)),
      'Seconds after it is sent before it may run.',
    ),
  ),
  expires: z.optional(boundedTime('After this it is recorded REVOKED instead of running.')),
  timeLimit: z.optional(callTimeLimit('Hard time limit of this call.')),
  softTimeLimit: z.optional(callTimeLimit('Soft time limit of this call.')),
};

/** A signature with no follow-ups of its own: what `link`, `linkError` and `chain` of a signature hold. */
export const leafSignatureSchema = z
  .strictObject(callFields)
  .check(z.describe('A task call with its id fixed (a signature that has no follow-ups of its own).'));

const leafList = (description: string) =>
  z.optional(described(z.array(leafSignatureSchema).check(z.maxLength(B.signatures)), description));

/**
 * Celery's signature, as JSON: a task call to send later, with its id fixed and, one level deep,
 * its own follow-ups. Deeper nesting is refused by the schema (the envelope must stay bounded).
 */
export const signatureSchema = z
  .strictObject({
    ...callFields,
    link: leafList('Sent when this one succeeds, its result prepended to mutable ones.'),
    linkError: leafList("Sent when this one fails, the failed task's id as their first argument."),
    chain: leafList('Chained after this one, next first.'),
  })
  .check(
    z.describe(
      "A task call to send later (Celery's signature) with its id fixed; its link, linkError and chain hold signatures without follow-ups of their own.",
    ),
  );

export type Signature = z.output<typeof signatureSchema>;
export type SignatureInput = z.input<typeof signatureSchema>;

export const signatureList = (description: string) =>
  z.optional(described(z.array(signatureSchema).check(z.maxLength(B.signatures)), description));

/** Membership of a group (Celery's `group_id` and `group_index`), and of a chord's header. */
export const groupFieldSchema = z
  .strictObject({
    id: described(taskIdSchema, "The group's id (GroupResult.id)."),
    index: described(z.int().check(z.gte(0), z.lt(B.groupSize)), "This member's place, from 0."),
    size: described(z.int().check(z.positive(), z.lte(B.groupSize)), 'How many members the group has.'),
    chord: z.optional(
      described(
        z.literal(true),
        "The group is a chord's header: the chord's callback runs once every member is ready (the callback is kept in the chord's record).",
      ),
    ),
  })
  .check(
    z.refine((g) => g.index < g.size, { error: 'must be less than size', path: ['index'] }),
    z.describe('Set on the members of a group (and of a chord header).'),
  );

export type GroupField = z.output<typeof groupFieldSchema>;

// Named, so the JSON Schema says "Signature" once in $defs rather than spelling it out per list.
z.globalRegistry.add(leafSignatureSchema, { id: 'LeafSignature' });
z.globalRegistry.add(signatureSchema, { id: 'Signature' });
