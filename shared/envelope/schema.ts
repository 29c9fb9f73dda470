import * as z from '../schema.ts';
import { beatEnvelopeFieldSchema } from './beat-field.ts';
import { ENVELOPE_BOUNDS as B, boundedText, boundedTime } from './bounds.ts';
import { celeryFieldSchema } from './celery-field.ts';
import { callTimeLimit, groupFieldSchema, signatureList, taskIdSchema, taskNameSchema } from './signature.ts';

/** Version of the wire format; a worker refuses versions it does not know, by name. */
export const ENVELOPE_VERSION = 1;

const described = <T extends z.ZodMiniType>(schema: T, description: string) =>
  schema.check(z.describe(description)) as T;
const text = (max: number, description: string) => described(boundedText(max), description);

/**
 * The one wire contract: every task message on every queue is this JSON object. Any language can
 * produce it (see `envelope.schema.json`, generated from this definition, and docs/envelope.md).
 * Every field is bounded (`bounds.ts`): a message cannot ask for unbounded work, an impossible
 * time or an unknown zone. A field this version does not know is refused by name, never dropped:
 * a misspelt `kwarg` or a `countdown` would otherwise be ignored without a word.
 */
export const envelopeSchema = z
  .strictObject({
    v: z
      .literal(ENVELOPE_VERSION, { error: `must be ${ENVELOPE_VERSION}` })
      .check(z.describe(`Required. Version of the wire format: ${ENVELOPE_VERSION}.`)),
    id: described(
      taskIdSchema,
      `Required. The task id (Celery's task_id): 1 to ${B.idChars} of A-Z a-z 0-9 _ . : - (a UUID is the usual choice). ` +
        'The result row is keyed by it. Sending the same task (same name, args and kwargs) again under an id that has ' +
        'finished does not run it again; a different task under a used id is not run and is reported on the first ' +
        "task's row (idReused). Beat puts <aws.scheduler.execution-id> here and the Scheduler fills it in.",
    ),
    task: described(
      taskNameSchema,
      `Required. Registered task name, dotted, at most ${B.taskNameChars} characters, e.g. ` +
        "apps.notifications.tasks.send_email_notification. It also chooses the queue (the app config's taskRoutes).",
    ),
    args: described(
      z._default(z.array(z.unknown()), []),
      "Optional, default []. Positional arguments, any JSON values (Celery's args).",
    ),
    kwargs: described(
      z._default(z.record(z.string(), z.unknown()), {}),
      "Optional, default {}. Keyword arguments (Celery's kwargs); a keyword the task does not take is a TypeError FAILURE.",
    ),
    eta: z.optional(
      boundedTime(
        'Optional. Do not run before this time: the way to delay a task (countdown N = now + N s). ' +
          'The worker holds an early message back (SQS delay up to 15 min, a one-time schedule beyond).',
      ),
    ),
    expires: z.optional(
      boundedTime(
        'Optional. If a worker gets the task after this time it records REVOKED (TaskExpired) instead of running it.',
      ),
    ),
    retries: described(
      z._default(z.int().check(z.minimum(0), z.maximum(B.retries)), 0),
      `Optional, default 0. How many times the task has been retried already (0 to ${B.retries}); producers leave it out.`,
    ),
    origin: z.optional(
      text(
        B.textBytes,
        `Optional. Who sent it: a host, "beat", "admin", ... At most ${B.textBytes} bytes (UTF-8).`,
      ),
    ),
    parentId: z.optional(
      text(B.idChars, `Optional. Id of the task that sent this one (at most ${B.idChars} characters).`),
    ),
    rootId: z.optional(
      text(
        B.idChars,
        `Optional. Id of the first task of the chain this one belongs to (at most ${B.idChars} characters).`,
      ),
    ),
    periodicTask: z.optional(
      text(B.taskNameChars, 'Optional. Name of the periodic task that sent it (set by Beat).'),
    ),
    queue: z.optional(
      text(
        B.queueChars,
        `Optional. Route queue it is meant for (default, heavy, ...; at most ${B.queueChars} characters). A worker refuses a name its deployment does not have. Left out, the producer's routing chose the queue.`,
      ),
    ),
    sentAt: z.optional(boundedTime("Optional. When it was first sent; the result row's dateCreated.")),
    timeLimit: z.optional(callTimeLimit("Optional. This call's hard time limit (Celery's time_limit).")),
    softTimeLimit: z.optional(
      callTimeLimit("Optional. This call's soft time limit (Celery's soft_time_limit)."),
    ),
    link: signatureList(
      "Optional. Celery's link: signatures sent when this task succeeds, its result prepended to the args of mutable ones.",
    ),
    linkError: signatureList(
      "Optional. Celery's link_error: signatures sent when this task fails for good, the failed task's id as their first argument.",
    ),
    chain: signatureList(
      'Optional. The rest of a chain, next first: on success chain[0] is sent (this result prepended unless immutable) with the rest; on failure each is recorded FAILURE with the same error.',
    ),
    group: z.optional(groupFieldSchema),
    celery: z.optional(celeryFieldSchema),
    beat: z.optional(
      beatEnvelopeFieldSchema.check(
        z.describe(
          "Set by a periodic task's schedule only: what the worker needs to run it exactly. Producers leave it out.",
        ),
      ),
    ),
  })
  .check(
    z.describe(
      'Celerity task message, version 1: the JSON body of an SQS message on a route queue. Fields not listed here are refused. See docs/envelope.md.',
    ),
  );

/** An envelope as producers write it: defaults may be left out. */
export type EnvelopeInput = z.input<typeof envelopeSchema>;

/** An envelope as the worker sees it, defaults filled in, every time with its zone. */
export type Envelope = z.output<typeof envelopeSchema>;
