import { EnvelopeError } from '../envelope/errors.ts';

/** What a refused Celery message still says about itself: its failure is recorded under this id. */
export interface CeleryMessageIds {
  taskId?: string;
  taskName?: string;
}

/**
 * A message in Celery's protocol (kombu's SQS body) that the worker will not run. It is an
 * `EnvelopeError`, so the worker's poison path records it under the id its headers carry, as it
 * records a bad Celerity envelope: FAILURE with this reason, never dropped.
 */
export class CeleryMessageError extends EnvelopeError {
  constructor(message: string, ids: CeleryMessageIds = {}, options?: ErrorOptions) {
    super(message, ids, options);
    this.name = 'CeleryMessageError';
  }
}

/**
 * The body is not JSON (pickle, yaml, msgpack, any other content type) or not UTF-8: Celerity runs
 * no code out of a message, as Celery's `accept_content = ['json']` refuses the same bodies with
 * kombu's `ContentDisallowed`.
 */
export class ContentDisallowedError extends CeleryMessageError {
  readonly contentType: string;

  constructor(contentType: string, ids: CeleryMessageIds = {}) {
    super(
      `Refusing to deserialize untrusted content of type ${serializerOf(contentType)} (${contentType}): ` +
        "Celerity accepts only json (set the Celery app's task_serializer = 'json')",
      ids,
    );
    this.name = 'ContentDisallowedError';
    this.contentType = contentType;
  }
}

/** The body was compressed (`compression=` on the call or `task_compression`): not taken. */
export class CompressedMessageError extends CeleryMessageError {
  readonly compression: string;

  constructor(compression: string, ids: CeleryMessageIds = {}) {
    super(
      `the message body is compressed (${compression}); Celerity takes uncompressed JSON bodies: ` +
        'leave task_compression unset',
      ids,
    );
    this.name = 'CompressedMessageError';
    this.compression = compression;
  }
}

/** A Celery protocol version 1 message (`task_protocol = 1`): only version 2, Celery 4's default on, is taken. */
export class CeleryProtocolError extends CeleryMessageError {
  constructor(message: string, ids: CeleryMessageIds = {}, options?: ErrorOptions) {
    super(message, ids, options);
    this.name = 'CeleryProtocolError';
  }
}

/** A canvas part Celerity cannot carry out as Celery would (a chord or group sent by a Celery producer). */
export class UnsupportedCanvasError extends CeleryMessageError {
  constructor(message: string, ids: CeleryMessageIds = {}) {
    super(message, ids);
    this.name = 'UnsupportedCanvasError';
  }
}

/** The serializer's name, as Celery's settings spell it, for a content type. */
export function serializerOf(contentType: string): string {
  return SERIALIZERS[contentType] ?? contentType;
}

const SERIALIZERS: Record<string, string> = {
  'application/json': 'json',
  'application/x-python-serialize': 'pickle',
  'application/x-yaml': 'yaml',
  'application/x-msgpack': 'msgpack',
};
