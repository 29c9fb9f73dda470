import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * SQS message bodies a real Celery 5.2.6 / kombu 5.2.4 app sent (kombu's SQS transport, captured
 * without a network). Regenerate with:
 *
 *     /usr/bin/python3 test/support/python/kombu_fixtures.py > test/support/celery/kombu-bodies.json
 */
const file = JSON.parse(readFileSync(join(import.meta.dirname, 'kombu-bodies.json'), 'utf8')) as {
  celery: string;
  kombu: string;
  cases: { case: string; queue: string; body: string }[];
};

export const KOMBU_VERSIONS = { celery: file.celery, kombu: file.kombu };

/** The SQS body of one captured case (`delay`, `pickle`, `chain`, `group#0`, ...). */
export function kombuBody(name: string): string {
  const found = file.cases.find((c) => c.case === name);
  if (!found) throw new Error(`no kombu fixture named ${name}`);
  return found.body;
}

/** The kombu message inside a base64 SQS body, to alter a captured case by hand. */
export function unwrap(body: string): Record<string, unknown> & {
  headers: Record<string, unknown>;
  properties: Record<string, unknown>;
  body: string;
} {
  return JSON.parse(Buffer.from(body, 'base64').toString('utf8'));
}

/** A kombu message back into an SQS body (base64, as kombu's default `sqs_base64_encoding`). */
export function wrap(message: unknown): string {
  return Buffer.from(JSON.stringify(message)).toString('base64');
}

/** A captured message with its task payload replaced (`[args, kwargs, embed]` as JSON, base64). */
export function withPayload(name: string, payload: unknown, headers: Record<string, unknown> = {}): string {
  const message = unwrap(kombuBody(name));
  return wrap({
    ...message,
    headers: { ...message.headers, ...headers },
    body: Buffer.from(JSON.stringify(payload)).toString('base64'),
  });
}
