import { fromZodIssues } from '../errors.ts';
import { EnvelopeError } from './errors.ts';
import { type Envelope, type EnvelopeInput, envelopeSchema } from './schema.ts';

/** Validates and serializes an envelope; throws a `ValidationError` naming the field. */
export function encodeEnvelope(input: EnvelopeInput): { envelope: Envelope; body: string } {
  const parsed = envelopeSchema.safeParse(input);
  if (!parsed.success) throw fromZodIssues('envelope', parsed.error.issues);
  return { envelope: parsed.data, body: JSON.stringify(parsed.data) };
}

function readString(value: unknown, key: string): string | undefined {
  if (value && typeof value === 'object' && typeof (value as Record<string, unknown>)[key] === 'string') {
    return (value as Record<string, string>)[key];
  }
  return undefined;
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
    const invalid = fromZodIssues('envelope', parsed.error.issues);
    const taskId = readString(raw, 'id');
    const idValid = taskId !== undefined && !parsed.error.issues.some((issue) => issue.path[0] === 'id');
    const taskName = readString(raw, 'task');
    throw new EnvelopeError(
      `invalid envelope: ${invalid.message}`,
      idValid ? (taskName === undefined ? { taskId } : { taskId, taskName }) : {},
      { cause: invalid },
    );
  }
  return parsed.data;
}
