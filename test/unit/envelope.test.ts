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

describe('every envelope field is bounded (hostile producers)', () => {
  const base = { v: 1, id: 'hostile-1', task: 'apps.a.tasks.b' };
  const beat = { scheduledAt: '2026-01-01T00:00:00Z' };
  const refusal = (envelope: Record<string, unknown>) => {
    try {
      decodeEnvelope(JSON.stringify(envelope));
    } catch (error) {
      return error as EnvelopeError;
    }
    throw new Error('the envelope was accepted');
  };

  it.each([
    ['beat.guard.timezone', { beat: { ...beat, guard: { timezone: 'Mars/Olympus_Mons' } } }],
    ['beat.guard.timezone', { beat: { ...beat, guard: { timezone: 'europe/london' } } }],
    ['beat.expansion.count', { beat: { ...beat, expansion: { everySeconds: 1, count: 199_999 } } }],
    ['beat.expansion.count', { beat: { ...beat, expansion: { everySeconds: 30, count: 40 } } }],
    ['beat.expansion.everySeconds', { beat: { ...beat, expansion: { everySeconds: 1e9, count: 1 } } }],
    ['beat.run', { beat: { ...beat, run: 1e9 } }],
    ['beat.expireSeconds', { beat: { ...beat, expireSeconds: 1e12 } }],
    [
      'beat.guard.daysOfMonth',
      { beat: { ...beat, guard: { timezone: 'UTC', daysOfMonth: Array(32).fill(1) } } },
    ],
    ['beat.scheduledAt', { beat: { scheduledAt: '9999-12-31T23:59:59Z' } }],
    ['eta', { eta: '+275760-09-13T00:00:00Z' }],
    ['eta', { eta: '1970-01-01T00:00:00Z' }],
    ['expires', { expires: '2200-01-01T00:00:00Z' }],
    ['sentAt', { sentAt: '1999-12-31T23:59:59Z' }],
    ['retries', { retries: 1e300 }],
    ['retries', { retries: 1.5 }],
    ['task', { task: `a.${'b'.repeat(300)}` }],
    ['id', { id: 'x'.repeat(129) }],
    ['origin', { origin: 'é'.repeat(200) }],
    ['periodicTask', { periodicTask: 'p'.repeat(201) }],
  ])('refuses a hostile %s, naming it, and keeps the id to record the failure', (field, fields) => {
    const error = refusal({ ...base, ...fields });
    expect(error).toBeInstanceOf(EnvelopeError);
    const issues = (error.cause as ValidationError).issues.map((i) => i.field);
    expect(issues).toContain(`envelope.${field}`);
    if (field !== 'id') expect(error.taskId).toBe('hostile-1');
  });

  it('refuses the expansion of 199,999 runs that was once sent 199,999 times', () => {
    const error = refusal({
      ...base,
      beat: { ...beat, expansion: { everySeconds: 1, count: 199_999 } },
    });
    expect(error.message).toMatch(/envelope\.beat\.expansion\.count: .*60/);
  });

  it('takes every expansion Beat itself plans, and real zones', () => {
    for (const every of [1, 7, 20, 45, 59, 90, 100]) {
      const period = (every * 60) / gcd(every, 60);
      if (period - every > 900) continue;
      const expansion = { everySeconds: every, count: period / every };
      expect(() => decodeEnvelope(JSON.stringify({ ...base, beat: { ...beat, expansion } }))).not.toThrow();
    }
    const guard = { timezone: 'America/Argentina/ComodRivadavia', daysOfWeek: [0, 1, 2, 3, 4, 5, 6] };
    expect(decodeEnvelope(JSON.stringify({ ...base, beat: { ...beat, guard } })).beat?.guard).toEqual(guard);
  });
});

function gcd(a: number, b: number): number {
  return b === 0 ? a : gcd(b, a % b);
}

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
