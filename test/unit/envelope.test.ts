import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  decodeEnvelope,
  EnvelopeError,
  encodeEnvelope,
  envelopeJsonSchema,
} from '../../shared/envelope/index.ts';
import { ValidationError } from '../../shared/errors.ts';
import { callToEnvelope } from '../../shared/producer/call.ts';

describe('envelope', () => {
  it('round-trips with defaults filled', () => {
    const { body } = encodeEnvelope({ v: 1, id: 'abc-1', task: 'apps.a.tasks.b' });
    expect(decodeEnvelope(body)).toEqual({
      v: 1,
      id: 'abc-1',
      task: 'apps.a.tasks.b',
      args: [],
      kwargs: {},
      retries: 0,
    });
  });

  it('names the field that is wrong', () => {
    expect(() => encodeEnvelope({ v: 1, id: 'a', task: 'not a name' })).toThrowError(
      /envelope\.task: must be a dotted task name/,
    );
    expect(() => encodeEnvelope({ v: 1, id: 'a', task: 'a.b', eta: 'tomorrow' } as never)).toThrowError(
      /envelope\.eta/,
    );
    expect(() => encodeEnvelope({ v: 1, id: 'a', task: 'a.b', retries: -1 })).toThrowError(ValidationError);
  });

  it('refuses a body that is not JSON, with no id to record', () => {
    const error = (() => {
      try {
        decodeEnvelope('{oops');
      } catch (e) {
        return e as EnvelopeError;
      }
    })();
    expect(error).toBeInstanceOf(EnvelopeError);
    expect(error?.message).toBe('message body is not JSON');
    expect(error?.taskId).toBeUndefined();
  });

  it('keeps the id of an invalid envelope so its failure can be recorded', () => {
    try {
      decodeEnvelope(JSON.stringify({ v: 2, id: 'keep-me', task: 'a.b' }));
      expect.unreachable();
    } catch (error) {
      expect((error as EnvelopeError).taskId).toBe('keep-me');
      expect((error as Error).message).toMatch(/envelope\.v: must be 1/);
    }
  });

  it('is published as JSON Schema, and the file in the repo is current (npm run schema)', () => {
    const file = JSON.parse(
      readFileSync(new URL('../../shared/envelope/envelope.schema.json', import.meta.url), 'utf8'),
    );
    expect(file).toEqual(envelopeJsonSchema());
    expect(file.required).toEqual(expect.arrayContaining(['v', 'id', 'task']));
  });
});

describe('calls', () => {
  const now = Date.parse('2026-01-01T00:00:00Z');
  it('turns a countdown into an eta and expires seconds into a time', () => {
    const e = callToEnvelope({ task: 'a.b', countdown: 60, expires: 120, taskId: 't1' }, now);
    expect(e).toMatchObject({
      id: 't1',
      rootId: 't1',
      eta: '2026-01-01T00:01:00.000Z',
      expires: '2026-01-01T00:02:00.000Z',
    });
  });
  it('refuses countdown with eta, a negative countdown, and a bad date', () => {
    expect(() => callToEnvelope({ task: 'a.b', countdown: 1, eta: new Date() }, now)).toThrowError(
      /call\.countdown: give either/,
    );
    expect(() => callToEnvelope({ task: 'a.b', countdown: -5 }, now)).toThrowError(/call\.countdown/);
    expect(() => callToEnvelope({ task: 'a.b', eta: new Date('nope') }, now)).toThrowError(/call\.eta/);
    expect(() => callToEnvelope({ task: 'a.b', queu: 'x' } as never, now)).toThrowError(/queu/);
  });
});
