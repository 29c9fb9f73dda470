import { asUtc, ENVELOPE_BOUNDS } from '../envelope/bounds.ts';
import { type CeleryMessageIds, CeleryProtocolError, UnsupportedCanvasError } from './errors.ts';
import { idsOf, isObject, type KombuMessage, kombuPayload } from './kombu.ts';
import { celerySignatures, type IntakeSignature } from './signatures.ts';

/** What the intake keeps of a Celery message that has no envelope field of its own (the envelope's `celery`). */
export interface CeleryMark {
  /** Celery's `reply_to` property: the client's reply queue, kept for the result it waits on. */
  replyTo?: string;
  /** Celery's `correlation_id` property (the task id, as Celery sends it). */
  correlationId?: string;
  /** `shadow`: the name Celery shows for the task in logs and events. */
  shadow?: string;
  /** `ignore_result=True` on the call: Celery's result backend gets no row. */
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
  group?: { id: string; index?: number };
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
  group: 'headers.group',
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
    ...text('replyTo', properties.reply_to, MARK_CHARS),
    ...text('correlationId', properties.correlation_id, MARK_CHARS),
    ...text('shadow', h.shadow, MARK_CHARS),
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
    ...(typeof h.group === 'string' && h.group
      ? { group: { id: h.group, ...(typeof h.group_index === 'number' ? { index: h.group_index } : {}) } }
      : {}),
    celery,
  };
}

/** The bound of each `celery` field: the mark stays small whatever the sender put in it. */
const MARK_CHARS = ENVELOPE_BOUNDS.taskNameChars;

/**
 * A string field when Celery set one (it sends `None` for unset headers). Ids are passed whole
 * for the schema to judge; only the mark's informative fields are cut to `bytes`.
 */
function text<K extends string>(key: K, value: unknown, bytes?: number): { [k in K]?: string } {
  if (typeof value !== 'string' || !value) return {};
  return { [key]: bytes === undefined ? value : clip(value, bytes) } as { [k in K]: string };
}

/**
 * Celery's times are ISO 8601 with microseconds and an offset (`2030-01-31T09:00:00.123456+00:00`);
 * a naive one is UTC, as Celery's worker reads it under `enable_utc`. Written as the envelope
 * writes times; one that cannot be read is passed on for the schema to refuse by name.
 */
function time<K extends string>(key: K, value: unknown): { [k in K]?: unknown } {
  if (value === null || value === undefined) return {};
  if (typeof value !== 'string') return { [key]: value } as { [k in K]: unknown };
  const at = Date.parse(asUtc(value));
  return { [key]: Number.isFinite(at) ? new Date(at).toISOString() : value } as { [k in K]: unknown };
}

/** Free text cut to a byte bound: a long host name is not a reason to refuse a task. */
function clip(value: string, bytes: number): string {
  if (Buffer.byteLength(value) <= bytes) return value;
  let cut = value.slice(0, bytes);
  while (Buffer.byteLength(cut) > bytes) cut = cut.slice(0, -1);
  return cut;
}
