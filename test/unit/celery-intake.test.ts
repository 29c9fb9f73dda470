import type { SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { afterSuccess } from '../../shared/canvas/next-parts.ts';
import {
  type CeleryMessageError,
  CeleryProtocolError,
  CompressedMessageError,
  ContentDisallowedError,
  celeryEnvelopeInput,
  decodeCeleryMessage,
  readKombuMessage,
  UnsupportedCanvasError,
} from '../../shared/celery/index.ts';
import { encodeEnvelope } from '../../shared/envelope/codec.ts';
import { EnvelopeError } from '../../shared/envelope/errors.ts';
import type { Envelope } from '../../shared/envelope/schema.ts';
import type { Logger } from '../../shared/log.ts';
import type { TaskResultRecord } from '../../shared/results/record.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import { decodeRecord } from '../../shared/worker/decode.ts';
import { KOMBU_VERSIONS, kombuBody, unwrap, withPayload, wrap } from '../support/celery/fixtures.ts';

// Issue #12, must-show 1 (intake side): the SQS bodies a real Celery app sends are read into
// Celerity's envelope, and what cannot be honoured is refused with a reason and the message's id.

/** The envelope fields a captured case reads as (before the envelope's own validation). */
function input(name: string, queue?: string) {
  const message = readKombuMessage(kombuBody(name));
  if (!message) throw new Error(`${name} was not read as a kombu message`);
  return celeryEnvelopeInput(message, queue);
}

/** What decoding a body throws (it must throw). */
function refusal(body: string): CeleryMessageError {
  try {
    decodeCeleryMessage(body);
  } catch (error) {
    return error as CeleryMessageError;
  }
  throw new Error('the body was not refused');
}

describe('kombu SQS bodies from Celery 5 (fixtures)', () => {
  it('were captured from the versions Debian ships', () => {
    expect(KOMBU_VERSIONS).toEqual({ celery: '5.2.6', kombu: '5.2.4' });
  });

  it('reads .delay(): same task name, id, args and kwargs, the sender as origin, the reply queue kept', () => {
    const delay = input('delay', 'default');
    expect(delay).toMatchObject({
      v: 1,
      id: '7d1c3e43-6a52-4c1b-9f0e-5b0d9c1c2a11',
      task: 'apps.demo.tasks.add',
      args: [2, 3],
      kwargs: {},
      retries: 0,
      rootId: '7d1c3e43-6a52-4c1b-9f0e-5b0d9c1c2a11',
      queue: 'default',
      origin: expect.stringMatching(/@/),
      celery: {
        protocol: 2,
        correlationId: '7d1c3e43-6a52-4c1b-9f0e-5b0d9c1c2a11',
        replyTo: expect.stringMatching(/^[0-9a-f-]{36}$/),
      },
    });
    for (const absent of [
      'eta',
      'expires',
      'timeLimit',
      'softTimeLimit',
      'parentId',
      'link',
      'chain',
      'group',
    ])
      expect(delay).not.toHaveProperty(absent);
  });

  it('keeps non-ASCII arguments exactly', () => {
    expect(input('notification').args).toEqual(['user-1', 'Grüße', 'Ihr Termin ✓']);
  });

  it('reads every header Celery sets: eta, expires, retries, time limits, parent and root ids', () => {
    expect(input('options')).toMatchObject({
      id: '0b5e2a77-3f0e-4d3a-9d43-2f6a6d0b9e10',
      args: [1],
      kwargs: { y: 2 },
      // Celery writes microseconds and an offset; the envelope's times are UTC with milliseconds.
      eta: '2030-01-31T09:00:00.123Z',
      expires: '2030-01-31T10:00:00.000Z',
      retries: 2,
      timeLimit: 30,
      softTimeLimit: 20,
      parentId: '11111111-2222-3333-4444-555555555555',
      rootId: '99999999-8888-7777-6666-555555555555',
    });
  });

  it('reads apply_async(countdown=5, expires=60) as an eta 5 s and expires 60 s after sending', () => {
    const { eta, expires } = input('countdown');
    expect(Date.parse(expires as string) - Date.parse(eta as string)).toBe(55_000);
  });

  it('maps link= and link_error= to link and linkError, fixing the ids Celery would mint at send time', () => {
    const links = input('links');
    expect(links.link).toEqual([
      { task: 'apps.demo.tasks.add', id: expect.stringMatching(/^[0-9a-f-]{36}$/), args: [10] },
      {
        task: 'apps.demo.tasks.noop',
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        immutable: true,
        queue: 'default',
      },
    ]);
    expect(links.linkError).toEqual([
      { task: 'apps.demo.tasks.noop', id: 'd3c8f4b1-6e2d-4a0f-9b7c-8f6e5d4c3b21' },
    ]);
    // The same message read again (a redelivery) names the same follow-ups: sending them is idempotent.
    expect(input('links').link).toEqual(links.link);
    expect(links.link?.[0]?.id).not.toBe(links.link?.[1]?.id);
  });

  it("reads a callback's eta and expires as a countdown and a time, and refuses one it cannot read", () => {
    const eta = new Date(Date.now() + 60_000).toISOString();
    const body = withPayload('delay', [
      [2, 3],
      {},
      { callbacks: [{ task: 'apps.demo.tasks.noop', options: { eta, expires: 120 } }] },
    ]);
    const link = decodeCeleryMessage(body)?.link?.[0];
    expect(link?.countdown).toBeGreaterThan(30);
    expect(link?.countdown).toBeLessThanOrEqual(60);
    expect(Date.parse(link?.expires as string)).toBeGreaterThan(Date.now() + 100_000);
    const unreadable = withPayload('delay', [
      [2, 3],
      {},
      { callbacks: [{ task: 'apps.demo.tasks.noop', options: { eta: 'soon' } }] },
    ]);
    expect(refusal(unreadable).message).toMatch(/embed\.callbacks\.0\.countdown/);
  });

  it('turns the embedded chain (Celery pops its end) into the envelope chain, next first', () => {
    const chain = input('chain').chain;
    expect(chain?.map((s) => [s.task, s.id, s.args, s.immutable])).toEqual([
      ['apps.demo.tasks.add', 'a913ca34-e8a5-4173-a7fd-ceda9dcf1c33', [3], undefined],
      ['apps.demo.tasks.noop', 'c6b28e08-0367-43b6-a6cc-7500991d45cb', undefined, true],
    ]);
  });

  it('runs a member of a group Celery sent as a task of its own (Celery 5.2 sends no group size)', () => {
    const member = decodeCeleryMessage(kombuBody('group#1'));
    expect(member).toMatchObject({ id: 'd406b0ea-8298-451d-8a8d-3ec0e192255b', args: [2, 2] });
    expect(member).not.toHaveProperty('group');
  });

  it('passes every captured case it honours through the envelope schema', () => {
    for (const name of [
      'delay',
      'notification',
      'options',
      'countdown',
      'links',
      'chain',
      'group#0',
      'plain-sqs-body',
    ])
      expect(decodeCeleryMessage(kombuBody(name))?.celery).toMatchObject({ protocol: 2 });
    expect(decodeCeleryMessage(kombuBody('links'))?.link?.[1]).toMatchObject({
      immutable: true,
      queue: 'default',
    });
  });

  it('names a value the envelope refuses by the Celery field it came from', () => {
    const error = refusal(
      withPayload('delay', [[2, 3], {}, null], { eta: '2300-01-01T00:00:00+00:00', id: 'has space' }),
    );
    expect(error.message).toMatch(
      /^invalid Celery message: headers\.id: may hold only .*; headers\.eta: must be a time in the years 2000 to 2199/,
    );
    expect(error.taskId).toBe('has space');
    const late = refusal(withPayload('delay', [[2, 3], {}, null], { timelimit: [-1, null] }));
    expect(late.message).toMatch(/headers\.timelimit\[0\]/);
  });

  it('reads the body without base64 (sqs_base64_encoding=False) and without body encoding', () => {
    expect(input('plain-sqs-body')).toMatchObject({
      id: 'd92efab7-2e8d-4a6f-9bd2-4fcebdac9b87',
      args: [6, 7],
    });
    expect(input('no-body-encoding')).toMatchObject({
      id: 'ea3f0bc8-3f9e-4b7a-8ce3-50dfcebdac98',
      args: [8, 9],
    });
  });

  it("leaves Celerity's own envelopes to the envelope decoder, even one whose kwargs say content-type", () => {
    const { body } = encodeEnvelope({
      v: 1,
      id: 'x-1',
      task: 'apps.demo.tasks.add',
      args: [1, 2],
      kwargs: { 'content-type': 'application/json', properties: {}, body: '' },
    });
    expect(readKombuMessage(body)).toBeUndefined();
    expect(decodeCeleryMessage(body)).toBeUndefined();
    expect(readKombuMessage('not json at all')).toBeUndefined();
    expect(readKombuMessage(Buffer.from('{"v": 1}').toString('base64'))).toBeUndefined();
  });
});

describe('what the intake refuses, with the reason and the id its headers carry', () => {
  const ids = (error: CeleryMessageError) => ({ taskId: error.taskId, taskName: error.taskName });

  it('a pickle body: ContentDisallowed, recorded under its id (the headers are JSON even then)', () => {
    const error = refusal(kombuBody('pickle'));
    expect(error).toBeInstanceOf(ContentDisallowedError);
    // An EnvelopeError: the worker's poison path records it under the id, as a bad envelope's.
    expect(error).toBeInstanceOf(EnvelopeError);
    expect(error.message).toMatch(/untrusted content of type pickle \(application\/x-python-serialize\)/);
    expect(ids(error)).toEqual({
      taskId: 'e4d9a5c2-7f3e-4b1a-8c8d-9a7f6e5d4c32',
      taskName: 'apps.demo.tasks.add',
    });
  });

  it('yaml and msgpack bodies, and any content type but application/json', () => {
    expect(refusal(kombuBody('yaml')).message).toMatch(/of type yaml \(application\/x-yaml\)/);
    const delay = unwrap(kombuBody('delay'));
    const msgpack = refusal(wrap({ ...delay, 'content-type': 'application/x-msgpack' }));
    expect(msgpack).toBeInstanceOf(ContentDisallowedError);
    expect(msgpack.message).toMatch(/of type msgpack/);
    expect(ids(msgpack).taskId).toBe('7d1c3e43-6a52-4c1b-9f0e-5b0d9c1c2a11');
    expect(refusal(wrap({ ...delay, 'content-type': 'text/plain' })).message).toMatch(/text\/plain/);
    const { 'content-type': _gone, ...untyped } = delay;
    expect(refusal(wrap(untyped))).toBeInstanceOf(ContentDisallowedError);
    expect(refusal(wrap({ ...delay, 'content-encoding': 'latin-1' }))).toBeInstanceOf(ContentDisallowedError);
  });

  it('a compressed body', () => {
    const error = refusal(kombuBody('zlib'));
    expect(error).toBeInstanceOf(CompressedMessageError);
    expect(error.message).toMatch(/compressed \(application\/x-gzip\)/);
    expect(ids(error).taskId).toBe('a6fbc7e4-9b5a-4d3c-8eaf-1c9b8a7f6e54');
  });

  it('a protocol 1 message, recorded under the id its body carries', () => {
    const error = refusal(kombuBody('protocol-1'));
    expect(error).toBeInstanceOf(CeleryProtocolError);
    expect(error.message).toMatch(/protocol 1 is not supported/);
    expect(ids(error)).toEqual({
      taskId: 'c81de9a6-1d7c-4f5e-8ac1-3ebdac9b8a76',
      taskName: 'apps.demo.tasks.add',
    });
  });

  it('a chord member from a Celery producer, and a group or chord as a callback', () => {
    const member = refusal(kombuBody('chord#0'));
    expect(member).toBeInstanceOf(UnsupportedCanvasError);
    expect(member.message).toMatch(/member of a chord/);
    expect(ids(member).taskId).toBe('73b335f5-fc13-4381-8b14-ae4f58c90a44');
    const groupCallback = withPayload('delay', [
      [2, 3],
      {},
      {
        callbacks: [
          { task: 'celery.group', args: [], kwargs: { tasks: [] }, options: {}, subtask_type: 'group' },
        ],
      },
    ]);
    expect(refusal(groupCallback).message).toMatch(/embed\.callbacks\[0\]: a group signature/);
  });

  it('a body that is not [args, kwargs, embed], not JSON, or not base64 as it says', () => {
    expect(refusal(withPayload('delay', { args: [1] })).message).toMatch(/\[args, kwargs, embed\]/);
    expect(refusal(withPayload('delay', [[1], {}])).message).toMatch(/\[args, kwargs, embed\]/);
    const delay = unwrap(kombuBody('delay'));
    expect(refusal(wrap({ ...delay, body: Buffer.from('[[1], {').toString('base64') })).message).toMatch(
      /not JSON/,
    );
    expect(refusal(wrap({ ...delay, body: 'not base64!' })).message).toMatch(/not valid base64/);
    const unknownEncoding = refusal(
      wrap({ ...delay, properties: { ...delay.properties, body_encoding: 'rot13' } }),
    );
    expect(unknownEncoding.message).toMatch(/body_encoding "rot13"/);
    expect(ids(unknownEncoding).taskId).toBe('7d1c3e43-6a52-4c1b-9f0e-5b0d9c1c2a11');
  });

  it('a message without the id or task header', () => {
    const delay = unwrap(kombuBody('delay'));
    const { task: _t, ...noTask } = delay.headers;
    const error = refusal(wrap({ ...delay, headers: noTask }));
    expect(error).toBeInstanceOf(CeleryProtocolError);
    expect(ids(error).taskId).toBe('7d1c3e43-6a52-4c1b-9f0e-5b0d9c1c2a11');
  });
});

describe("the worker's decoder (shared/worker/decode.ts) with Celery bodies", () => {
  const registry = new TaskRegistry();
  defineTask('apps.demo.tasks.add', (_ctx, x: number, y: number) => x + y, {}, registry);
  const log: Logger = { debug() {}, info() {}, warn() {}, error() {} };
  const arn = 'arn:aws:sqs:us-east-1:000000000000:celerity-default';
  const context = {
    registry,
    config: {
      queues: { default: { url: 'http://127.0.0.1/000000000000/celerity-default', arn } },
      resultExpires: 86_400,
    },
    now: Date.UTC(2026, 11, 1),
    log,
  };
  const record = (body: string) =>
    ({ messageId: 'm-1', body, eventSourceARN: arn, attributes: {} }) as unknown as SQSRecord;
  const poisonOf = (body: string) => {
    const decoded = decodeRecord(record(body), context);
    if ('envelope' in decoded) throw new Error('the body was run');
    return decoded.poison?.record;
  };

  it('records a refused Celery message as a poison FAILURE under its id, with the reason', () => {
    expect(poisonOf(kombuBody('pickle'))).toMatchObject({
      taskId: 'e4d9a5c2-7f3e-4b1a-8c8d-9a7f6e5d4c32',
      taskName: 'apps.demo.tasks.add',
      status: 'FAILURE',
      errorType: 'ContentDisallowedError',
      traceback: expect.stringMatching(
        /^ContentDisallowedError: Refusing to deserialize untrusted content of type pickle/,
      ),
      poison: true,
    });
    expect(poisonOf(kombuBody('protocol-1'))).toMatchObject({
      taskId: 'c81de9a6-1d7c-4f5e-8ac1-3ebdac9b8a76',
      errorType: 'CeleryProtocolError',
    });
  });

  it("marks a Celery message's refusal as Celery's (so it can be written where a Celery client reads), and no other", () => {
    const pickled = decodeRecord(record(kombuBody('pickle')), context);
    const unknown = decodeRecord(record(kombuBody('unknown-task')), context);
    const envelope = encodeEnvelope({ v: 1, id: 'e-1', task: 'apps.demo.tasks.nope' }).body;
    const celerity = decodeRecord(record(envelope), context);
    expect([pickled, unknown, celerity].map((r) => ('celery' in r ? r.celery : undefined))).toEqual([
      true,
      true,
      undefined,
    ]);
  });

  it('records a Celery message for a task this worker does not have as NotRegistered, under its id', () => {
    expect(poisonOf(kombuBody('unknown-task'))).toMatchObject({
      taskId: 'b70cd8f5-0c6b-4e4d-9fb0-2dac9b8a7f65',
      taskName: 'apps.demo.tasks.nope',
      status: 'FAILURE',
      errorType: 'NotRegistered',
    });
  });
});

describe("a Celery task's follow-ups (shared/canvas/next-parts.ts)", () => {
  it("are Celery's too, so a Python chain's AsyncResult (its last part) is written where Python reads it", () => {
    const chained = decodeCeleryMessage(kombuBody('chain')) as Envelope;
    const row = { taskId: chained.id, status: 'SUCCESS', result: '3' } as TaskResultRecord;
    const [next] = afterSuccess(chained, row, Date.now());
    expect(next?.envelope).toMatchObject({
      id: 'a913ca34-e8a5-4173-a7fd-ceda9dcf1c33',
      args: [3, 3],
      celery: { protocol: 2 },
    });
    // The reply queue and correlation id were the first message's: not copied.
    expect(next?.envelope.celery).toEqual({ protocol: 2 });
    const { celery: _mark, ...own } = chained;
    expect(afterSuccess(own, row, Date.now())[0]?.envelope).not.toHaveProperty('celery');
  });
});
