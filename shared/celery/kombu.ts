import {
  CeleryMessageError,
  CeleryProtocolError,
  CompressedMessageError,
  ContentDisallowedError,
} from './errors.ts';

/**
 * A message as kombu's SQS transport (5.x) puts it on a queue: the SQS body is base64 of this JSON
 * (or the JSON itself with `sqs_base64_encoding=False`), and `body` is the serialized task,
 * base64 again when `properties.body_encoding` says so (kombu's default).
 */
export interface KombuMessage {
  body: string;
  contentType: string | undefined;
  contentEncoding: string | undefined;
  headers: Record<string, unknown>;
  properties: Record<string, unknown>;
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Reads an SQS body as kombu's message, or says it is not one (`undefined`: a Celerity envelope or
 * anything else, left to the envelope decoder). Cheap for Celerity's own JSON envelopes: they are
 * never base64, and one is parsed here only if its text mentions `"content-type"` (then its shape
 * tells it apart: an envelope has `v` and no `properties`).
 */
export function readKombuMessage(sqsBody: string): KombuMessage | undefined {
  const text = sqsBody.trimStart();
  let json: string;
  if (text.startsWith('{')) {
    if (!text.includes('"content-type"')) return undefined;
    json = text;
  } else {
    const decoded = strictBase64(text.trimEnd());
    if (decoded === undefined || !decoded.trimStart().startsWith('{')) return undefined;
    json = decoded;
  }
  let value: unknown;
  try {
    value = JSON.parse(json);
  } catch {
    return undefined;
  }
  if (!isObject(value) || !isObject(value.properties) || !('body' in value) || 'v' in value) return undefined;
  if (!('headers' in value) && !('content-type' in value)) return undefined;
  return {
    body: typeof value.body === 'string' ? value.body : '',
    contentType: typeof value['content-type'] === 'string' ? value['content-type'] : undefined,
    contentEncoding: typeof value['content-encoding'] === 'string' ? value['content-encoding'] : undefined,
    headers: isObject(value.headers) ? value.headers : {},
    properties: value.properties,
  };
}

/**
 * The task id and name a kombu message's headers carry (protocol 2), readable whatever the body's
 * serializer: a refused pickle message is still recorded where its sender looks for it.
 */
export function idsOf(message: KombuMessage): { taskId?: string; taskName?: string } {
  const { id, task } = message.headers;
  return {
    ...(typeof id === 'string' && id ? { taskId: id } : {}),
    ...(typeof task === 'string' && task ? { taskName: task } : {}),
  };
}

/**
 * The task message's payload as JSON: content type, encoding, compression and body encoding
 * checked, each refusal naming what was sent. Protocol 1 (a JSON object body, no `task` header)
 * is refused with its id and name read from the body.
 */
export function kombuPayload(message: KombuMessage): unknown {
  const ids = idsOf(message);
  const contentType = message.contentType ?? '(none)';
  if (contentType !== 'application/json') throw new ContentDisallowedError(contentType, ids);
  const encoding = (message.contentEncoding ?? 'utf-8').toLowerCase();
  if (encoding !== 'utf-8' && encoding !== 'utf8')
    throw new ContentDisallowedError(`${contentType}; charset=${encoding}`, ids);
  const compression = message.headers.compression;
  if (compression !== undefined && compression !== null)
    throw new CompressedMessageError(String(compression), ids);
  const bodyEncoding = message.properties.body_encoding;
  let text: string | undefined;
  if (bodyEncoding === 'base64') text = strictBase64(message.body);
  else if (bodyEncoding === undefined || bodyEncoding === null) text = message.body;
  else throw new CeleryMessageError(`unknown body_encoding ${JSON.stringify(bodyEncoding)}`, ids);
  if (text === undefined) throw new CeleryMessageError('the message body is not valid base64', ids);
  let payload: unknown;
  try {
    payload = JSON.parse(text);
  } catch (cause) {
    throw new CeleryMessageError('the message body is not JSON', ids, { cause });
  }
  if (ids.taskName === undefined && isObject(payload) && 'task' in payload) {
    const id = typeof payload.id === 'string' && payload.id ? payload.id : undefined;
    const task = typeof payload.task === 'string' ? payload.task : undefined;
    throw new CeleryProtocolError(
      "Celery task protocol 1 is not supported: send protocol 2 (Celery 4+'s default; leave task_protocol unset)",
      { ...(id ? { taskId: id } : {}), ...(task ? { taskName: task } : {}) },
    );
  }
  return payload;
}

/** Base64 that round-trips (as kombu checks it), decoded as UTF-8; anything else is `undefined`. */
function strictBase64(text: string): string | undefined {
  if (text.length === 0 || text.length % 4 !== 0 || !BASE64.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  if (bytes.toString('base64') !== text) return undefined;
  try {
    return UTF8.decode(bytes);
  } catch {
    return undefined;
  }
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
