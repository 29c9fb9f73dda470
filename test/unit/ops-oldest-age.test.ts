import type {
  CloudWatchClient,
  GetMetricDataCommandInput,
  MetricDataResult,
} from '@aws-sdk/client-cloudwatch';
import { describe, expect, it } from 'vitest';
import { OperationFailedError } from '../../shared/ops/errors.ts';
import { cloudWatchOldestAge } from '../../shared/ops/oldest-age.ts';

const URLS = {
  default: 'https://sqs.us-east-1.amazonaws.com/123456789012/celerity-default',
  heavy: 'https://sqs.us-east-1.amazonaws.com/123456789012/celerity-heavy',
  notifications: 'https://sqs.us-east-1.amazonaws.com/123456789012/celerity-notifications',
};

/** A CloudWatch client that answers from `answer` (or throws it) and keeps each request's input. */
function fakeCloudWatch(answer: (input: GetMetricDataCommandInput) => MetricDataResult[] | Error) {
  const calls: GetMetricDataCommandInput[] = [];
  const client = {
    send: async (command: { input: GetMetricDataCommandInput }) => {
      calls.push(command.input);
      const out = answer(command.input);
      if (out instanceof Error) throw out;
      return { MetricDataResults: out };
    },
  } as unknown as Pick<CloudWatchClient, 'send'>;
  return { client, calls };
}

/** The query id that asks for a queue, by its QueueName dimension. */
const idOf = (input: GetMetricDataCommandInput, queueName: string) =>
  input.MetricDataQueries?.find((q) => q.MetricStat?.Metric?.Dimensions?.[0]?.Value === queueName)?.Id;

describe('the oldest message age from CloudWatch', () => {
  it('asks once for every route queue, Maximum per minute over five minutes, and takes the newest minute', async () => {
    const { client, calls } = fakeCloudWatch((input) => [
      { Id: idOf(input, 'celerity-default'), Values: [42.4, 900], Timestamps: [] },
      { Id: idOf(input, 'celerity-notifications'), Values: [7], Timestamps: [] },
    ]);
    const now = new Date('2026-12-01T05:00:00Z');
    const age = cloudWatchOldestAge(() => client, Object.values(URLS), { clock: () => now });

    const ages = await Promise.all(Object.entries(URLS).map(([queue, url]) => age(queue, url)));

    expect(ages).toEqual([42, null, 7]);
    expect(calls).toHaveLength(1);
    const [input] = calls as [GetMetricDataCommandInput];
    expect(input.ScanBy).toBe('TimestampDescending');
    expect(input.StartTime).toEqual(new Date('2026-12-01T04:55:00Z'));
    expect(input.EndTime).toEqual(now);
    expect(input.MetricDataQueries).toHaveLength(3);
    for (const query of input.MetricDataQueries ?? []) {
      expect(query.Id).toMatch(/^[a-z][a-zA-Z0-9_]*$/);
      expect(query.MetricStat).toMatchObject({
        Metric: { Namespace: 'AWS/SQS', MetricName: 'ApproximateAgeOfOldestMessage' },
        Period: 60,
        Stat: 'Maximum',
      });
    }
  });

  it('says null, not zero, for a queue CloudWatch has no datapoint for', async () => {
    const { client } = fakeCloudWatch(() => []);
    const age = cloudWatchOldestAge(() => client, [URLS.default]);
    expect(await age('default', URLS.default)).toBeNull();
  });

  it('keeps an answer for a minute and asks again after it', async () => {
    let value = 10;
    const { client, calls } = fakeCloudWatch((input) => [
      { Id: idOf(input, 'celerity-default'), Values: [value] },
    ]);
    let now = Date.parse('2026-12-01T05:00:00Z');
    const age = cloudWatchOldestAge(() => client, [URLS.default], { clock: () => new Date(now) });

    expect(await age('default', URLS.default)).toBe(10);
    value = 20;
    now += 59_000;
    expect(await age('default', URLS.default)).toBe(10);
    now += 1_000;
    expect(await age('default', URLS.default)).toBe(20);
    expect(calls).toHaveLength(2);
  });

  it('a failed call rejects with OperationFailedError (cause kept), is reported, and is not kept', async () => {
    const denied = Object.assign(new Error('User is not authorized to perform: cloudwatch:GetMetricData'), {
      name: 'AccessDenied',
    });
    let fail = true;
    const { client, calls } = fakeCloudWatch((input) =>
      fail ? denied : [{ Id: idOf(input, 'celerity-default'), Values: [5] }],
    );
    const reported: OperationFailedError[] = [];
    const age = cloudWatchOldestAge(() => client, [URLS.default], { onError: (e) => reported.push(e) });

    const error = await age('default', URLS.default).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(OperationFailedError);
    expect((error as OperationFailedError).cause).toBe(denied);
    expect((error as Error).message).toContain('cloudwatch:GetMetricData');
    expect(reported).toEqual([error]);

    fail = false;
    expect(await age('default', URLS.default)).toBe(5);
    expect(calls).toHaveLength(2);
  });

  it('asks again, for all of them, when a queue it was not given is asked about', async () => {
    const { client, calls } = fakeCloudWatch((input) => [
      { Id: idOf(input, 'celerity-heavy'), Values: [3] },
      { Id: idOf(input, 'celerity-default'), Values: [1] },
    ]);
    const age = cloudWatchOldestAge(() => client, [URLS.default]);
    expect(await age('default', URLS.default)).toBe(1);
    expect(await age('heavy', URLS.heavy)).toBe(3);
    expect(calls.map((c) => c.MetricDataQueries?.length)).toEqual([1, 2]);
  });
});
