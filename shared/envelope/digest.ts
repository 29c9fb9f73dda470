import { createHash } from 'node:crypto';
import type { Envelope } from './schema.ts';

/** JSON with every object's keys in order, so `{a, b}` and `{b, a}` are the same call. */
function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) =>
      a < b ? -1 : a > b ? 1 : 0,
    );
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * What a message asks to run (task, args, kwargs), as a SHA-256: the same for every delivery,
 * retry, deferral or eta re-send of one call, different for another call reusing its id. Times,
 * retries, queue and origin are left out: they change between the messages of one call.
 */
export function envelopeDigest(envelope: Pick<Envelope, 'task' | 'args' | 'kwargs'>): string {
  return createHash('sha256')
    .update(canonical([envelope.task, envelope.args, envelope.kwargs]))
    .digest('hex');
}
