import { asUtc } from '../envelope/bounds.ts';

/**
 * A string field when Celery set one (it sends `None` for unset headers). Ids are passed whole
 * for the schema to judge; only informative fields are cut to `bytes`.
 */
export function text<K extends string>(key: K, value: unknown, bytes?: number): { [k in K]?: string } {
  if (typeof value !== 'string' || !value) return {};
  return { [key]: bytes === undefined ? value : clip(value, bytes) } as { [k in K]: string };
}

/**
 * Celery's times are ISO 8601 with microseconds and an offset (`2030-01-31T09:00:00.123456+00:00`);
 * a naive one is UTC, as Celery's worker reads it under `enable_utc`. A number (a signature's
 * `expires=60`, which Celery turns into a time when it sends the signature) counts from `now`.
 * Written as the envelope writes times; one that cannot be read is passed on for the schema to
 * refuse by name.
 */
export function time<K extends string>(key: K, value: unknown, now = Date.now()): { [k in K]?: unknown } {
  if (value === null || value === undefined) return {};
  const at =
    typeof value === 'number'
      ? now + value * 1000
      : typeof value === 'string'
        ? Date.parse(asUtc(value))
        : Number.NaN;
  return { [key]: Number.isFinite(at) ? new Date(at).toISOString() : value } as { [k in K]: unknown };
}

/** Free text cut to a byte bound: a long host name is not a reason to refuse a task. */
export function clip(value: string, bytes: number): string {
  if (Buffer.byteLength(value) <= bytes) return value;
  let cut = value.slice(0, bytes);
  while (Buffer.byteLength(cut) > bytes) cut = cut.slice(0, -1);
  return cut;
}
