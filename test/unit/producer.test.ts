import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../shared/config/index.ts';
import { type EnvelopeInput, MessageTooLargeError } from '../../shared/envelope/index.ts';
import { ValidationError } from '../../shared/errors.ts';
import { EnqueueError, oneTimeScheduleName, Producer } from '../../shared/producer/index.ts';

/** A stand-in SQS client for error paths only; the integration suites use the emulator. */
function fakeSqs(options: {
  failIds?: (attempt: number, id: string) => boolean;
  refuseIds?: (id: string) => boolean;
  maxSize?: number;
}) {
  const sent: { entries: number; attempt: number }[] = [];
  let attempt = 0;
  const client = {
    async send(command: { constructor: { name: string }; input: Record<string, unknown> }) {
      if (command.constructor.name === 'GetQueueAttributesCommand') {
        return { Attributes: { MaximumMessageSize: String(options.maxSize ?? 262_144) } };
      }
      attempt++;
      const entries = command.input.Entries as { Id: string }[];
      sent.push({ entries: entries.length, attempt });
      const failed = entries.filter((e) => options.failIds?.(attempt, e.Id));
      const refused = entries.filter((e) => options.refuseIds?.(e.Id));
      return {
        Successful: entries
          .filter((e) => !failed.includes(e) && !refused.includes(e))
          .map((e) => ({ Id: e.Id })),
        Failed: [
          ...failed.map((e) => ({
            Id: e.Id,
            Code: 'InternalError',
            SenderFault: false,
            Message: 'try again',
          })),
          ...refused.map((e) => ({
            Id: e.Id,
            Code: 'InvalidMessageContents',
            SenderFault: true,
            Message: 'bad characters',
          })),
        ],
      };
    },
  };
  return { client: client as unknown as SQSClient, sent };
}

const config = resolveConfig(
  { queues: { default: { url: 'http://q/default', arn: 'arn:aws:sqs:us-east-1:1:default' } } },
  {},
);

describe('Producer error paths', () => {
  it('sends batches of ten and re-sends only the entries SQS failed', async () => {
    const { client, sent } = fakeSqs({ failIds: (attempt, id) => attempt === 1 && id === '3' });
    const producer = new Producer({ config, sqs: client, scheduler: {} as SchedulerClient });
    const result = await producer.sendMany(
      Array.from({ length: 25 }, (_, i) => ({ task: 'a.b', args: [i] })),
    );
    expect(result).toHaveLength(25);
    expect(sent.map((s) => s.entries).sort()).toEqual([1, 10, 10, 5].sort());
  });

  it('reports exactly which calls were not sent when SQS keeps failing them', async () => {
    const { client } = fakeSqs({ failIds: (_attempt, id) => id === '4' || id === '17' });
    const producer = new Producer({ config, sqs: client, scheduler: {} as SchedulerClient });
    const error = await producer
      .sendMany(Array.from({ length: 20 }, (_, i) => ({ task: 'a.b', taskId: `t${i}` })))
      .catch((e) => e);
    expect(error).toBeInstanceOf(EnqueueError);
    expect((error as EnqueueError).failed.map((f) => f.taskId)).toEqual(['t4', 't17']);
    expect((error as EnqueueError).sent).toHaveLength(18);
  });

  it("refuses a message over the queue's size cap before sending anything", async () => {
    const { client, sent } = fakeSqs({ maxSize: 1024 });
    const producer = new Producer({ config, sqs: client, scheduler: {} as SchedulerClient });
    const error = await producer
      .sendMany([{ task: 'a.b' }, { task: 'a.b', args: ['x'.repeat(2000)] }])
      .catch((e) => e);
    expect(error).toBeInstanceOf(MessageTooLargeError);
    expect((error as MessageTooLargeError).limit).toBe(1024);
    expect(sent).toHaveLength(0);
  });

  it('refuses an unknown queue and a long delay without a scheduler, naming the field', async () => {
    const { client } = fakeSqs({});
    const producer = new Producer({ config, sqs: client, scheduler: {} as SchedulerClient });
    await expect(producer.send({ task: 'a.b', queue: 'nope' })).rejects.toThrow(
      /calls\[0\]\.queue: no queue named "nope"/,
    );
    await expect(producer.send({ task: 'a.b', countdown: 3600 })).rejects.toThrow(
      /calls\[0\]\.eta: a delay of 3600 s/,
    );
  });
});

describe("sendEnvelopes: one envelope's fault is its own (the worker's retries, ETA re-sends, deferrals)", () => {
  const envelope = (id: string, extra: Record<string, unknown> = {}) => ({
    envelope: { v: 1, id, task: 'a.b', ...extra } as EnvelopeInput,
  });
  const sendAll = async (producer: Producer, items: Parameters<Producer['sendEnvelopes']>[0]) => {
    const error = await producer.sendEnvelopes(items).catch((e) => e);
    expect(error).toBeInstanceOf(EnqueueError);
    return error as EnqueueError;
  };

  it('sends the good ones and lists each refused one as permanent, with its reason', async () => {
    const { client, sent } = fakeSqs({ maxSize: 1024 });
    const producer = new Producer({ config, sqs: client, scheduler: {} as SchedulerClient });
    // Fits without an eta; the eta a retry adds takes it over the queue's 1,024 bytes.
    const nearLimit = { args: ['x'.repeat(900)], origin: 'o' };
    expect((await producer.sendEnvelopes([envelope('fits', nearLimit)])).map((s) => s.taskId)).toEqual([
      'fits',
    ]);
    const error = await sendAll(producer, [
      envelope('good-1'),
      envelope('no-route', { queue: 'nope' }),
      envelope('too-big', { ...nearLimit, retries: 1, eta: new Date(Date.now() + 5000).toISOString() }),
      envelope('bad-eta', { eta: 'tomorrow' }),
      { ...envelope('huge-delay'), delaySeconds: 1e13 },
      { ...envelope('nan-delay'), delaySeconds: Number.NaN },
      envelope('far', { eta: new Date(Date.now() + 3_600_000).toISOString() }),
      envelope('good-2'),
    ]);
    expect(error.sent.map((s) => s.taskId)).toEqual(['good-1', 'good-2']);
    expect(error.failed.map((f) => [f.index, f.taskId, f.permanent])).toEqual([
      [1, 'no-route', true],
      [2, 'too-big', true],
      [3, 'bad-eta', true],
      [4, 'huge-delay', true],
      [5, 'nan-delay', true],
      [6, 'far', true],
    ]);
    const reasons = error.failed.map((f) => f.reason);
    expect(reasons[0]).toMatch(/envelopes\[1\]\.queue: no queue named "nope"/);
    expect(reasons[1]).toMatch(/bytes, over the queue's limit of 1024/);
    expect(reasons[2]).toMatch(/envelope\.eta/);
    expect(reasons[3]).toMatch(/envelopes\[4\]\.delaySeconds/);
    expect(reasons[4]).toMatch(/envelopes\[5\]\.delaySeconds/);
    expect(reasons[5]).toMatch(/needs the scheduler, which is not configured/);
    expect(error.cause).toBeInstanceOf(ValidationError);
    expect(sent.at(-1)?.entries).toBe(2);
  });

  it('marks a send that keeps failing as transient, and one SQS refuses as sent as permanent', async () => {
    const { client, sent } = fakeSqs({
      failIds: (_attempt, id) => id === '0',
      refuseIds: (id) => id === '1',
    });
    const producer = new Producer({ config, sqs: client, scheduler: {} as SchedulerClient });
    const error = await sendAll(producer, [envelope('flaky'), envelope('refused'), envelope('fine')]);
    expect(error.failed.map((f) => [f.taskId, f.permanent])).toEqual([
      ['flaky', false],
      ['refused', true],
    ]);
    expect(error.sent.map((s) => s.taskId)).toEqual(['fine']);
    // The refused entry is not sent again; the failing one is, up to three attempts.
    expect(sent.map((s) => s.entries)).toEqual([3, 1, 1]);
  });
});

describe('sendMany: a list is validated whole before anything goes', () => {
  it('names every bad call and sends nothing', async () => {
    const { client, sent } = fakeSqs({});
    const producer = new Producer({ config, sqs: client, scheduler: {} as SchedulerClient });
    const error = await producer
      .sendMany([{ task: 'a.b' }, { task: 'a.b', queue: 'nope' }, { task: 'a.b', countdown: 3600 }])
      .catch((e) => e);
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues.map((i) => i.field)).toEqual(['calls[1].queue', 'calls[2].eta']);
    expect(sent).toHaveLength(0);
  });
});

describe('one-time schedule names', () => {
  it('are valid Scheduler names that keep every id apart', () => {
    const ids = ['job:1', 'job_1', 'job.1', 'x'.repeat(128), `${'x'.repeat(127)}y`, 'plain-id'];
    const names = ids.map((id) => oneTimeScheduleName(id, 12));
    for (const name of names) expect(name).toMatch(/^[0-9a-zA-Z\-_.]{1,64}$/);
    expect(new Set(names).size).toBe(ids.length);
    // An id that is a valid name already keeps the name it always had.
    expect(oneTimeScheduleName('plain-id', 0)).toBe('celerity-plain-id-r0');
  });
});
