import { setTimeout as sleep } from 'node:timers/promises';
import {
  ChangeMessageVisibilityCommand,
  CreateQueueCommand,
  DeleteMessageBatchCommand,
  GetQueueAttributesCommand,
  type Message,
  PurgeQueueCommand,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { type Emulator, startEmulator } from '../../localstack/emulator/emulator.ts';
import { createAwsClients } from '../../shared/aws/index.ts';
import { useEmulator } from '../support/emulator.ts';

/**
 * The launcher (localstack/emulator/moto_server.py) replaces how moto's SQS finds messages and receipt
 * handles, so that calls cost the same at any depth. These are the rules of moto's SQS that the
 * replacement touches; each runs against the launcher and against plain moto_server, which must agree.
 */
const REGION = 'us-east-1';
const leased = useEmulator();
let plain: Emulator | undefined;

beforeAll(async () => {
  if (inject('emulatorKind') === 'moto') plain = await startEmulator({ plainMoto: true });
});
afterAll(async () => {
  await plain?.stop();
});

const targets: [string, () => string | undefined][] = [
  ['the launcher', () => leased.endpoint],
  ['plain moto_server', () => plain?.endpoint],
];

let counter = 0;

describe.each(targets)('SQS rules kept at depth: %s', (_name, endpointOf) => {
  let sqs: SQSClient;
  beforeAll(() => {
    const endpoint = endpointOf();
    // Under an external emulator (LocalStack) there is no plain moto to compare with.
    if (endpoint) sqs = createAwsClients({ endpoint, region: REGION }).sqs;
  });

  async function queue(attributes: Record<string, string> = {}): Promise<string> {
    const name = `depth-${process.pid}-${++counter}`;
    return (await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes })))
      .QueueUrl as string;
  }

  async function send(url: string, bodies: string[], delaySeconds?: number): Promise<void> {
    for (let start = 0; start < bodies.length; start += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: bodies.slice(start, start + 10).map((body, index) => ({
            Id: String(index),
            MessageBody: body,
            ...(delaySeconds !== undefined ? { DelaySeconds: delaySeconds } : {}),
          })),
        }),
      );
    }
  }

  async function receive(url: string, visibility?: number, max = 10): Promise<Message[]> {
    const response = await sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: max,
        MessageSystemAttributeNames: ['All'],
        ...(visibility !== undefined ? { VisibilityTimeout: visibility } : {}),
      }),
    );
    return response.Messages ?? [];
  }

  async function counts(url: string) {
    const a =
      (await sqs.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['All'] })))
        .Attributes ?? {};
    return {
      visible: Number(a.ApproximateNumberOfMessages),
      hidden: Number(a.ApproximateNumberOfMessagesNotVisible),
      delayed: Number(a.ApproximateNumberOfMessagesDelayed),
    };
  }

  async function remove(url: string, handles: string[]) {
    return sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: handles.map((ReceiptHandle, index) => ({ Id: String(index), ReceiptHandle })),
      }),
    );
  }

  /** Makes a received message visible again at once, by the receipt handle given. */
  async function reveal(url: string, handle: string | undefined) {
    await sqs.send(
      new ChangeMessageVisibilityCommand({
        QueueUrl: url,
        ReceiptHandle: handle as string,
        VisibilityTimeout: 0,
      }),
    );
  }

  const bodies = (n: number) => Array.from({ length: n }, (_, i) => String(i));
  const bodiesOf = (messages: Message[]) => messages.map((m) => m.Body);

  it('takes visible messages in the order sent, each once, and counts visible and hidden ones', async () => {
    if (!sqs) return;
    const url = await queue();
    await send(url, bodies(30));
    const first = await receive(url, 30);
    expect(bodiesOf(first)).toEqual(bodies(10));
    expect(first.every((m) => m.Attributes?.ApproximateReceiveCount === '1')).toBe(true);
    expect(await counts(url)).toEqual({ visible: 20, hidden: 10, delayed: 0 });
    const rest = [...(await receive(url, 30)), ...(await receive(url, 30)), ...(await receive(url, 30))];
    expect(bodiesOf(rest)).toEqual(bodies(30).slice(10));
    expect(await counts(url)).toEqual({ visible: 0, hidden: 30, delayed: 0 });
  });

  it('deletes the messages named, by current or earlier receipt handle, once; refuses an unknown handle', async () => {
    if (!sqs) return;
    const url = await queue();
    await send(url, bodies(50));
    const taken = await receive(url, 0);
    // Received again at once (visibility 0): the same ten, each with a new handle and a second receive.
    const again = await receive(url, 30);
    expect(bodiesOf(again)).toEqual(bodiesOf(taken));
    expect(again.every((m) => m.Attributes?.ApproximateReceiveCount === '2')).toBe(true);
    // Messages 3 (by its earlier handle) and 7 (by its current one).
    const deleted = await remove(url, [taken[3]?.ReceiptHandle as string, again[7]?.ReceiptHandle as string]);
    expect(deleted.Successful).toHaveLength(2);
    const twice = await remove(url, [again[3]?.ReceiptHandle as string, 'not-a-handle']);
    expect(twice.Successful?.map((s) => s.Id)).toEqual(['0']);
    expect(twice.Failed?.map((f) => f.Code)).toEqual(['ReceiptHandleIsInvalid']);
    expect(await counts(url)).toEqual({ visible: 40, hidden: 8, delayed: 0 });
    for (const m of again.filter((_, i) => i !== 3 && i !== 7)) await reveal(url, m.ReceiptHandle);
    const all: Message[] = [];
    for (let batch = await receive(url, 30); batch.length > 0; batch = await receive(url, 30))
      all.push(...batch);
    expect(bodiesOf(all).sort((a, b) => Number(a) - Number(b))).toEqual(
      bodies(50).filter((b) => b !== '3' && b !== '7'),
    );
  });

  it('hides a received message until its visibility timeout, then gives it again with a higher count', async () => {
    if (!sqs) return;
    const url = await queue();
    await send(url, ['a', 'b']);
    const [a, b] = await receive(url, 1);
    expect(await receive(url, 1)).toEqual([]);
    await sleep(2100);
    const back = await receive(url, 30);
    expect(bodiesOf(back)).toEqual(['a', 'b']);
    expect(back.map((m) => m.Attributes?.ApproximateReceiveCount)).toEqual(['2', '2']);
    await remove(url, [back[0]?.ReceiptHandle as string]);
    // A deleted message's handle no longer moves it; a live one's (even an earlier one) does.
    await expect(reveal(url, a?.ReceiptHandle)).rejects.toMatchObject({
      name: expect.stringMatching(/ReceiptHandleIsInvalid/),
    });
    await reveal(url, b?.ReceiptHandle);
    expect(bodiesOf(await receive(url, 30))).toEqual(['b']);
  });

  it('keeps a delayed message back, counted as delayed, until its delay has passed', async () => {
    if (!sqs) return;
    const url = await queue();
    await send(url, ['late'], 1);
    await sqs.send(new SendMessageCommand({ QueueUrl: url, MessageBody: 'now' }));
    expect(bodiesOf(await receive(url, 30))).toEqual(['now']);
    expect(await counts(url)).toMatchObject({ delayed: 1, visible: 0 });
    await sleep(1600);
    expect(bodiesOf(await receive(url, 30))).toEqual(['late']);
  });

  it('moves a message to the DLQ on the receive past maxReceiveCount, where it is received and deleted', async () => {
    if (!sqs) return;
    const dlq = await queue();
    const dlqArn = (
      await sqs.send(new GetQueueAttributesCommand({ QueueUrl: dlq, AttributeNames: ['QueueArn'] }))
    ).Attributes?.QueueArn as string;
    const url = await queue({
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqArn, maxReceiveCount: 2 }),
    });
    await send(url, bodies(12));
    expect(await receive(url, 0)).toHaveLength(10);
    expect(await receive(url, 0)).toHaveLength(10);
    // Messages 0–9 have been received twice: the next receive moves them and gives 10 and 11.
    expect(bodiesOf(await receive(url, 30))).toEqual(['10', '11']);
    expect(await counts(url)).toEqual({ visible: 0, hidden: 2, delayed: 0 });
    const dead = await receive(dlq, 30);
    expect(bodiesOf(dead)).toEqual(bodies(10));
    expect(
      (
        await remove(
          dlq,
          bodiesOf(dead).map((_, i) => dead[i]?.ReceiptHandle as string),
        )
      ).Successful,
    ).toHaveLength(10);
    expect(await counts(dlq)).toEqual({ visible: 0, hidden: 0, delayed: 0 });
  });

  it('empties on purge and goes on working', async () => {
    if (!sqs) return;
    const url = await queue();
    await send(url, bodies(20));
    const held = await receive(url, 30);
    await sqs.send(new PurgeQueueCommand({ QueueUrl: url }));
    expect(await counts(url)).toEqual({ visible: 0, hidden: 0, delayed: 0 });
    expect((await remove(url, [held[0]?.ReceiptHandle as string])).Failed?.map((f) => f.Code)).toEqual([
      'ReceiptHandleIsInvalid',
    ]);
    await send(url, ['after']);
    const [after] = await receive(url, 30);
    expect(after?.Body).toBe('after');
    expect((await remove(url, [after?.ReceiptHandle as string])).Successful).toHaveLength(1);
  });

  it('answers a long poll with a message sent while it waits', async () => {
    if (!sqs) return;
    const url = await queue();
    const waiting = sqs.send(new ReceiveMessageCommand({ QueueUrl: url, WaitTimeSeconds: 10 }));
    await sleep(500);
    await send(url, ['awaited']);
    expect(bodiesOf((await waiting).Messages ?? [])).toEqual(['awaited']);
  });
});

describe('SQS on the launcher under concurrent receives', () => {
  it('never hands one message to two receives', async () => {
    const sqs = createAwsClients({ endpoint: leased.endpoint, region: REGION }).sqs;
    const url = (await sqs.send(new CreateQueueCommand({ QueueName: `depth-${process.pid}-race` })))
      .QueueUrl as string;
    for (let start = 0; start < 300; start += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: url,
          Entries: Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: String(start + i) })),
        }),
      );
    }
    const seen: string[] = [];
    await Promise.all(
      Array.from({ length: 8 }, async () => {
        for (;;) {
          const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, VisibilityTimeout: 60 }),
          );
          if (Messages.length === 0) return;
          seen.push(...Messages.map((m) => m.Body as string));
        }
      }),
    );
    expect(seen).toHaveLength(300);
    expect(new Set(seen).size).toBe(300);
  });
});
