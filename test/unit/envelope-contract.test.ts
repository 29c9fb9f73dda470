import { describe, expect, it } from 'vitest';
import {
  decodeEnvelope,
  type EnvelopeError,
  encodeEnvelope,
  envelopeJsonSchema,
} from '../../shared/envelope/index.ts';
import type { ValidationError } from '../../shared/errors.ts';
import { callToEnvelope } from '../../shared/producer/call.ts';

// Issue #9, finding 6: a wire contract a Python or Go developer can follow.
const base = { v: 1, id: 'wire-1', task: 'apps.a.tasks.b' };

function refusal(body: unknown): EnvelopeError {
  try {
    decodeEnvelope(JSON.stringify(body));
  } catch (error) {
    return error as EnvelopeError;
  }
  throw new Error('the envelope was accepted');
}

type JsonSchema = { description?: string; properties?: Record<string, JsonSchema>; required?: string[] };

describe('the JSON Schema says what every field is (issue #9 finding 6)', () => {
  it('describes every field, nested ones too, and says which are required', () => {
    const schema = envelopeJsonSchema() as JsonSchema;
    const undescribed: string[] = [];
    const walk = (node: JsonSchema, path: string) => {
      for (const [name, field] of Object.entries(node.properties ?? {})) {
        if (!field.description) undescribed.push(`${path}.${name}`);
        walk(field, `${path}.${name}`);
      }
    };
    walk(schema, 'envelope');
    expect(undescribed).toEqual([]);
    expect(schema.required).toEqual(['v', 'id', 'task']);
    for (const name of schema.required ?? [])
      expect(schema.properties?.[name]?.description).toMatch(/^Required/);
    expect(schema.properties?.eta?.description).toMatch(/without a zone it is UTC/);
    expect(schema.description).toMatch(/refused/);
  });
});

describe('a naive eta or expires is UTC, as Celery reads it (issue #9 finding 6)', () => {
  it("takes Python's datetime.utcnow().isoformat() and gives it its zone", () => {
    const envelope = decodeEnvelope(
      JSON.stringify({
        ...base,
        eta: '2026-12-01T03:52:09.123456',
        expires: '2026-12-01T04:00:00',
        sentAt: '2026-12-01T03:50:00',
      }),
    );
    expect(envelope.eta).toBe('2026-12-01T03:52:09.123456Z');
    expect(Date.parse(envelope.eta as string)).toBe(Date.UTC(2026, 11, 1, 3, 52, 9, 123));
    expect(envelope.expires).toBe('2026-12-01T04:00:00Z');
    expect(envelope.sentAt).toBe('2026-12-01T03:50:00Z');
  });

  it('keeps a time with an offset as it was written', () => {
    const { envelope } = encodeEnvelope({ ...base, v: 1, eta: '2026-12-01T05:52:09+02:00' });
    expect(envelope.eta).toBe('2026-12-01T05:52:09+02:00');
  });

  it('still refuses garbage, naming the field', () => {
    for (const [field, value] of [
      ['eta', 'tomorrow'],
      ['eta', '2026-12-01 03:52:09'],
      ['expires', '2026-13-01T00:00:00'],
      ['eta', '1999-12-31T23:59:59'],
    ] as const) {
      const error = refusal({ ...base, [field]: value });
      expect((error.cause as ValidationError).issues.map((i) => i.field)).toEqual([`envelope.${field}`]);
      expect(error.taskId).toBe('wire-1');
    }
  });

  it('reads a naive eta as UTC in applyAsync too, whatever the zone of the machine', () => {
    const e = callToEnvelope({ task: 'a.b', eta: '2026-12-01T03:52:09' }, Date.UTC(2026, 11, 1));
    expect(e.eta).toBe('2026-12-01T03:52:09.000Z');
  });
});

describe('unknown fields are refused by name, never dropped (issue #9 finding 6)', () => {
  it('names each unknown field, and says how to delay when it is a countdown', () => {
    const error = refusal({ ...base, countdown: 30, kwarg: { a: 1 } });
    const issues = (error.cause as ValidationError).issues;
    expect(issues.map((i) => i.field).sort()).toEqual(['envelope.countdown', 'envelope.kwarg']);
    expect(issues.find((i) => i.field === 'envelope.countdown')?.message).toMatch(/set eta/);
    // Refused, not dropped: its failure is recorded under its id.
    expect(error.taskId).toBe('wire-1');
  });

  it('names unknown fields inside beat', () => {
    const error = refusal({ ...base, beat: { scheduledAt: '2026-01-01T00:00:00Z', sheduledAt: 'x' } });
    expect((error.cause as ValidationError).issues.map((i) => i.field)).toEqual(['envelope.beat.sheduledAt']);
  });

  it('refuses them at the producer too, naming them', () => {
    expect(() => encodeEnvelope({ ...base, v: 1, priority: 5 } as never)).toThrowError(
      /envelope\.priority: is not a field/,
    );
  });
});

describe('a bad id is a failure recorded under the id as sent (issue #9 finding 6)', () => {
  it('keeps an id with spaces so its FAILURE can be read back under it', () => {
    const error = refusal({ ...base, id: 'order 42' });
    expect(error.taskId).toBe('order 42');
    expect(error.message).toMatch(/envelope\.id: may hold only/);
  });

  it('cannot key a row by an id that is not text or is absurdly long', () => {
    expect(refusal({ ...base, id: 42 }).taskId).toBeUndefined();
    expect(refusal({ ...base, id: 'x'.repeat(5000) }).taskId).toBeUndefined();
  });

  it('is refused by applyAsync, naming the taskId', () => {
    expect(() => callToEnvelope({ task: 'a.b', taskId: 'order 42' }, 0)).toThrowError(
      /call\.taskId: may hold only/,
    );
  });
});
