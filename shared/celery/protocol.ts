import { ENVELOPE_BOUNDS } from '../envelope/bounds.ts';
import { type CeleryMessageIds, CeleryProtocolError, UnsupportedCanvasError } from './errors.ts';
import { idsOf, isObject, type KombuMessage, kombuPayload } from './kombu.ts';
import { celerySignatures, type IntakeSignature } from './signatures.ts';
import { clip, text, time } from './values.ts';

/** What the intake keeps of a Celery message that has no envelope field of its own (the envelope's `celery`). */
export interface CeleryMark {
  protocol: 2;
  /** Celery's `reply_to` property: the client's reply queue, kept for the result it waits on. */
  replyTo?: string;
  /** Celery's `correlation_id` property (the task id, as Celery sends it). */
  correlationId?: string;
  /** `ignore_result=True` on the call: a Celery client reads no result for it. */
  ignoreResult?: true;
}

/**
 * The envelope fields a Celery message fills, as sent: the envelope's schema validates them next
 * (a header of the wrong type is refused there, named as the Celery field).
 */
export interface IntakeEnvelope {
  v: 1;
  id: string;
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  eta?: unknown;
  expires?: unknown;
  retries?: unknown;
  origin?: string;
  parentId?: string;
  rootId?: string;
  queue?: string;
  timeLimit?: unknown;
  softTimeLimit?: unknown;
  link?: IntakeSignature[];
  linkError?: IntakeSignature[];
  chain?: IntakeSignature[];
  celery: CeleryMark;
}

/**
 * Where each envelope field came from in the Celery message: a refused field is named as the
 * sender wrote it (`headers.eta`), not as the envelope calls it.
 */
export const CELERY_FIELDS: Record<string, string> = {
  id: 'headers.id',
  task: 'headers.task',
  args: 'body[0] (args)',
  kwargs: 'body[1] (kwargs)',
  eta: 'headers.eta',
  expires: 'headers.expires',
  retries: 'headers.retries',
  origin: 'headers.origin',
  parentId: 'headers.parent_id',
  rootId: 'headers.root_id',
  timeLimit: 'headers.timelimit[0]',
  softTimeLimit: 'headers.timelimit[1]',
  link: 'embed.callbacks',
  linkError: 'embed.errbacks',
  chain: 'embed.chain',
  celery: 'properties',
};

/**
 * A Celery protocol 2 message as the fields of Celerity's envelope: the same task name and id,
 * args and kwargs, eta (a countdown arrives as an eta), expires, retries, time limits, parent and
 * root ids, origin, and the embed's callbacks, errbacks and chain as `link`, `linkError`, `chain`.
 * Refuses, naming why, what Celerity cannot honour: other serializers, compression, protocol 1, a
 * chord member (its counter and callback live in a Celery result backend).
 */
export function celeryEnvelopeInput(message: KombuMessage, queue?: string): IntakeEnvelope {
  const ids = idsOf(message);
  const payload = kombuPayload(message);
  const h = message.headers;
  if (ids.taskId === undefined || ids.taskName === undefined)
    throw new CeleryProtocolError('a Celery message needs the headers id and task (protocol 2)', ids);
  const { taskId, taskName } = ids as Required<CeleryMessageIds>;
  if (!Array.isArray(payload) || payload.length !== 3 || !Array.isArray(payload[0]) || !isObject(payload[1]))
    throw new CeleryProtocolError('a protocol 2 body is the JSON array [args, kwargs, embed]', ids);
  const [args, kwargs, rawEmbed] = payload as [unknown[], Record<string, unknown>, unknown];
  const embed = isObject(rawEmbed) ? rawEmbed : {};
  if (embed.chord !== null && embed.chord !== undefined)
    throw new UnsupportedCanvasError(
      'this task is a member of a chord sent by a Celery producer: its counter and callback would live in ' +
        "Celery's result backend, which Celerity does not run; send the chord with Celerity's chord()",
      ids,
    );
  const at = (field: string) => ({ ids, field, ownerId: taskId });
  const link = celerySignatures(embed.callbacks, at('embed.callbacks'));
  const linkError = celerySignatures(embed.errbacks, at('embed.errbacks'));
  // Celery pops the next task off the end of the embedded chain; the envelope's chain is next-first.
  const chained = celerySignatures(embed.chain, at('embed.chain'));
  const [timeLimit, softTimeLimit] = Array.isArray(h.timelimit) ? h.timelimit : [];
  const properties = message.properties;
  const celery: CeleryMark = {
    protocol: 2,
    ...text('replyTo', properties.reply_to, MARK_BYTES),
    ...text('correlationId', properties.correlation_id, MARK_BYTES),
    ...(h.ignore_result === true ? { ignoreResult: true as const } : {}),
  };
  return {
    v: 1,
    id: taskId,
    task: taskName,
    args,
    kwargs,
    ...time('eta', h.eta),
    ...time('expires', h.expires),
    ...(h.retries === null || h.retries === undefined ? {} : { retries: h.retries }),
    ...(typeof h.origin === 'string' && h.origin
      ? { origin: clip(h.origin, ENVELOPE_BOUNDS.textBytes) }
      : {}),
    ...text('parentId', h.parent_id),
    ...text('rootId', h.root_id),
    ...(queue ? { queue } : {}),
    ...(timeLimit === null || timeLimit === undefined ? {} : { timeLimit }),
    ...(softTimeLimit === null || softTimeLimit === undefined ? {} : { softTimeLimit }),
    ...(link ? { link } : {}),
    ...(linkError ? { linkError } : {}),
    ...(chained ? { chain: chained.reverse() } : {}),
    celery,
  };
}

/** The bound of each `celery` field (shared/envelope/celery-field.ts): the mark stays small whatever the sender put in it. */
const MARK_BYTES = 256;
