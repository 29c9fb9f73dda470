import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../shared/config/index.ts';
import { MessageTooLarge } from '../../shared/envelope/index.ts';
import { EnqueueError, Producer } from '../../shared/producer/index.ts';

/** A stand-in SQS client for error paths only; the integration suites use the emulator. */
function fakeSqs(options: { failIds?: (attempt: number, id: string) => boolean; maxSize?: number }) {
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
      return {
        Successful: entries.filter((e) => !failed.includes(e)).map((e) => ({ Id: e.Id })),
        Failed: failed.map((e) => ({
          Id: e.Id,
          Code: 'InternalError',
          SenderFault: false,
          Message: 'try again',
        })),
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
    expect(error).toBeInstanceOf(MessageTooLarge);
    expect((error as MessageTooLarge).limit).toBe(1024);
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
