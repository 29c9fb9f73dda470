import { fromZodIssues, type ValidationError } from '../errors.ts';
import { RECORDABLE_ID_BYTES } from './bounds.ts';
import { EnvelopeError } from './errors.ts';
import { type Envelope, type EnvelopeInput, envelopeSchema } from './schema.ts';

type Issue = { path: readonly PropertyKey[]; message: string; code?: string; keys?: readonly string[] };

/** Why a field is not taken, for the names a Celery user is likely to reach for. */
const UNKNOWN_HINTS: Record<string, string> = {
  countdown: 'to delay, set eta (a UTC time: now + countdown)',
  task_id: 'the task id is "id"',
  headers: 'the envelope has no headers',
};

/** Each unknown field becomes an issue of its own, named: `envelope.countdown: is not a field ...`. */
function envelopeIssues(issues: readonly Issue[]): ValidationError {
  return fromZodIssues(
    'envelope',
    issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys' && issue.keys
        ? issue.keys.map((key) => ({
            path: [...issue.path, key],
            message: `is not a field of the version 1 envelope (unknown fields are refused, never dropped)${
              issue.path.length === 0 && UNKNOWN_HINTS[key] ? `: ${UNKNOWN_HINTS[key]}` : ''
            }`,
          }))
        : [issue],
    ),
  );
}

/** Validates and serializes an envelope; throws a `ValidationError` naming the field. */
export function encodeEnvelope(input: EnvelopeInput): { envelope: Envelope; body: string } {
  const parsed = envelopeSchema.safeParse(input);
  if (!parsed.success) throw envelopeIssues(parsed.error.issues);
  return { envelope: parsed.data, body: JSON.stringify(parsed.data) };
}

function readString(value: unknown, key: string): string | undefined {
  if (value && typeof value === 'object' && typeof (value as Record<string, unknown>)[key] === 'string') {
    return (value as Record<string, string>)[key];
  }
  return undefined;
}

/**
 * The id a refused message's failure is recorded under: the id as sent, even one that breaks the
 * id rules (spaces, `/`), so whoever sent it finds the reason where they will look for its result.
 */
export function recordableId(id: string | undefined): string | undefined {
  if (id === undefined || id.length === 0) return undefined;
  return Buffer.byteLength(id) <= RECORDABLE_ID_BYTES ? id : undefined;
}

/**
 * Parses a message body. A body that fails still yields its id and task name when they can be read,
 * so the failure can be recorded where the caller will look for it.
 */
export function decodeEnvelope(body: string): Envelope {
  let raw: unknown;
  try {
    raw = JSON.parse(body);
  } catch (cause) {
    throw new EnvelopeError('message body is not JSON', {}, { cause });
  }
  const parsed = envelopeSchema.safeParse(raw);
  if (!parsed.success) {
    const invalid = envelopeIssues(parsed.error.issues);
    const taskId = recordableId(readString(raw, 'id'));
    const taskName = readString(raw, 'task');
    throw new EnvelopeError(
      `invalid envelope: ${invalid.message}`,
      taskId === undefined ? {} : taskName === undefined ? { taskId } : { taskId, taskName },
      { cause: invalid },
    );
  }
  return parsed.data;
}
