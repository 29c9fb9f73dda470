import { setTimeout as sleep } from 'node:timers/promises';
import { CreateTableCommand } from '@aws-sdk/client-dynamodb';
import { GetScheduleCommand, type GetScheduleOutput } from '@aws-sdk/client-scheduler';
import { CreateQueueCommand, DeleteMessageCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { DeleteCommand, PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import type { Context, DynamoDBRecord, DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { synthTemplate } from '../../infra/synth.ts';
import { FilterPatternError } from '../../localstack/event-sources/event-filter.ts';
import {
  createStreamsClient,
  type StreamBatchReport,
  type StreamInvocationRecord,
  StreamPoller,
  type StreamPollerOptions,
} from '../../localstack/event-sources/stream-poller.ts';
import { startLocalCloud } from '../../localstack/local-cloud.ts';
import { createPeriodicTaskStore } from '../../shared/app.ts';
import { type AwsClients, createAwsClients } from '../../shared/aws/index.ts';
import { scheduleName } from '../../shared/beat/naming.ts';
import { streamFilterPatterns } from '../../shared/beat/sync-plan.ts';
import { useEmulator } from '../support/emulator.ts';

const REGION = 'us-east-1';
const { endpoint } = useEmulator();
let clients: AwsClients;
const pollers: StreamPoller[] = [];

beforeAll(() => {
  clients = createAwsClients({ endpoint, region: REGION });
});

afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

let counter = 0;

/** A fresh table per test, so one test's records never reach another's handler. */
async function makeTable(): Promise<{ name: string; streamArn: string }> {
  const name = `stream-${process.pid}-${++counter}`;
  const created = await clients.dynamo.send(
    new CreateTableCommand({
      TableName: name,
      KeySchema: [{ AttributeName: 'pk', KeyType: 'HASH' }],
      AttributeDefinitions: [{ AttributeName: 'pk', AttributeType: 'S' }],
      BillingMode: 'PAY_PER_REQUEST',
      StreamSpecification: { StreamEnabled: true, StreamViewType: 'NEW_AND_OLD_IMAGES' },
    }),
  );
  return { name, streamArn: created.TableDescription?.LatestStreamArn as string };
}

async function makeQueue(): Promise<{ url: string }> {
  const name = `stream-failures-${process.pid}-${++counter}`;
  return { url: (await clients.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string };
}

const put = (table: string, item: Record<string, unknown>) =>
  clients.dynamo.send(new PutCommand({ TableName: table, Item: item }));
const set = (table: string, pk: string, values: Record<string, unknown>) =>
  clients.dynamo.send(
    new UpdateCommand({
      TableName: table,
      Key: { pk },
      UpdateExpression: `SET ${Object.keys(values)
        .map((k) => `#${k} = :${k}`)
        .join(', ')}`,
      ExpressionAttributeNames: Object.fromEntries(Object.keys(values).map((k) => [`#${k}`, k])),
      ExpressionAttributeValues: Object.fromEntries(Object.entries(values).map(([k, v]) => [`:${k}`, v])),
    }),
  );
const remove = (table: string, pk: string) =>
  clients.dynamo.send(new DeleteCommand({ TableName: table, Key: { pk } }));

type Handler = (event: DynamoDBStreamEvent, context: Context) => Promise<unknown>;

function poller(
  table: { streamArn: string },
  handler: Handler,
  options: Partial<StreamPollerOptions> = {},
): { poller: StreamPoller; reports: StreamBatchReport[]; errors: Error[] } {
  const reports: StreamBatchReport[] = [];
  const errors: Error[] = [];
  const p = new StreamPoller({
    streams: createStreamsClient({ endpoint, region: REGION }, clients.requests),
    streamArn: table.streamArn,
    region: REGION,
    handler,
    functionName: 'test-sync',
    timeoutSeconds: 5,
    startingPosition: 'TRIM_HORIZON',
    batchSize: 10,
    reportBatchItemFailures: true,
    pollIntervalMs: 100,
    retryDelayMs: 20,
    onBatch: (report) => reports.push(report),
    onError: (error) => errors.push(error),
    logger: { debug() {}, info() {}, warn() {}, error() {} },
    ...options,
  });
  pollers.push(p.start());
  return { poller: p, reports, errors };
}

async function until(check: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const started = Date.now();
  while (!(await check())) {
    if (Date.now() - started > timeoutMs) throw new Error('condition not met in time');
    await sleep(50);
  }
}

const keyOf = (r: DynamoDBRecord) => r.dynamodb?.Keys?.pk?.S as string;

/** The keys of each batch the handler was given, in order. */
function recorder(fail?: (event: DynamoDBStreamEvent, call: number) => unknown) {
  const calls: string[][] = [];
  const records: DynamoDBRecord[] = [];
  const handler: Handler = async (event) => {
    calls.push(event.Records.map(keyOf));
    records.push(...event.Records);
    return fail?.(event, calls.length);
  };
  return { calls, records, handler, keys: () => calls.flat() };
}

/** Messages on the failure queue, each parsed and deleted. */
async function failures(queueUrl: string, want: number): Promise<StreamInvocationRecord[]> {
  const out: StreamInvocationRecord[] = [];
  await until(async () => {
    const { Messages = [] } = await clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    for (const m of Messages) {
      out.push(JSON.parse(m.Body as string));
      await clients.sqs.send(
        new DeleteMessageCommand({ QueueUrl: queueUrl, ReceiptHandle: m.ReceiptHandle }),
      );
    }
    return out.length >= want;
  });
  return out;
}

describe('StreamPoller against moto', () => {
  it('delivers INSERT, MODIFY and REMOVE in order, as a DynamoDBStreamEvent with both images', async () => {
    const table = await makeTable();
    let context: Context | undefined;
    const seen = recorder();
    poller(table, async (event, ctx) => {
      context = ctx;
      return seen.handler(event, ctx);
    });
    await put(table.name, { pk: 'a', n: 1, bin: new Uint8Array([1, 2, 3]), tags: new Set(['x']) });
    await set(table.name, 'a', { n: 2 });
    await remove(table.name, 'a');
    await until(() => seen.records.length === 3);
    const [insert, modify, removed] = seen.records;
    expect(seen.records.map((r) => r.eventName)).toEqual(['INSERT', 'MODIFY', 'REMOVE']);
    for (const r of seen.records) {
      expect(r).toMatchObject({
        eventSource: 'aws:dynamodb',
        awsRegion: REGION,
        eventSourceARN: table.streamArn,
        dynamodb: { Keys: { pk: { S: 'a' } }, StreamViewType: 'NEW_AND_OLD_IMAGES' },
      });
      expect(r.eventID).toBeTruthy();
      expect(r.eventVersion).toBeTruthy();
      expect(r.dynamodb?.SizeBytes).toBeGreaterThan(0);
      expect(Number.isInteger(r.dynamodb?.ApproximateCreationDateTime)).toBe(true);
    }
    expect(insert?.dynamodb?.NewImage).toEqual({
      pk: { S: 'a' },
      n: { N: '1' },
      bin: { B: 'AQID' },
      tags: { SS: ['x'] },
    });
    expect(insert?.dynamodb?.OldImage).toBeUndefined();
    expect(modify?.dynamodb?.OldImage?.n).toEqual({ N: '1' });
    expect(modify?.dynamodb?.NewImage?.n).toEqual({ N: '2' });
    expect(removed?.dynamodb?.NewImage).toBeUndefined();
    expect(removed?.dynamodb?.OldImage?.n).toEqual({ N: '2' });
    const sequence = seen.records.map((r) => BigInt(r.dynamodb?.SequenceNumber as string));
    expect([...sequence].sort((x, y) => (x < y ? -1 : 1))).toEqual(sequence);
    expect(context?.functionName).toBe('test-sync');
    expect(context?.getRemainingTimeInMillis()).toBeLessThanOrEqual(5000);
    expect(clients.requests.snapshot().GetRecords).toBeGreaterThan(0);
  });

  it('starts at LATEST: what was written before it was ready is never delivered', async () => {
    const table = await makeTable();
    await put(table.name, { pk: 'before' });
    const seen = recorder();
    const { poller: p } = poller(table, seen.handler, { startingPosition: 'LATEST' });
    await p.ready();
    await put(table.name, { pk: 'after' });
    await until(() => seen.keys().includes('after'));
    expect(seen.keys()).toEqual(['after']);
  });

  it("filters with the Beat sync's patterns: a MODIFY by the run statistics is consumed, never delivered", async () => {
    const table = await makeTable();
    const seen = recorder();
    const { poller: p } = poller(table, seen.handler, { filterCriteria: streamFilterPatterns() });
    await put(table.name, { pk: 'job', lastWrite: 'definition' });
    await set(table.name, 'job', { lastRunAt: 't1', lastWrite: 'run' });
    await set(table.name, 'job', { enabled: false, lastWrite: 'definition' });
    await put(table.name, { pk: 'old' });
    await set(table.name, 'old', { description: 'written before the marker existed' });
    await remove(table.name, 'job');
    await until(() => seen.records.length === 5);
    expect(
      seen.records.map((r) => `${r.eventName} ${keyOf(r)} ${r.dynamodb?.NewImage?.lastWrite?.S}`),
    ).toEqual([
      'INSERT job definition',
      'MODIFY job definition',
      'INSERT old undefined',
      'MODIFY old undefined',
      'REMOVE job undefined',
    ]);
    expect(p.stats.filteredOut).toBe(1);
  });

  it('after a reported item failure, delivers that record and the later ones again, not the earlier ones', async () => {
    const table = await makeTable();
    for (const pk of ['k1', 'k2', 'k3', 'k4', 'k5']) await put(table.name, { pk });
    const seen = recorder((event, call) =>
      call === 1
        ? { batchItemFailures: [{ itemIdentifier: event.Records[2]?.dynamodb?.SequenceNumber }] }
        : { batchItemFailures: [] },
    );
    const { reports } = poller(table, seen.handler);
    await until(() => seen.calls.length === 2);
    expect(seen.calls).toEqual([
      ['k1', 'k2', 'k3', 'k4', 'k5'],
      ['k3', 'k4', 'k5'],
    ]);
    expect(reports.map((r) => r.outcome)).toEqual(['partial', 'success']);
    expect(reports[0]?.failed).toEqual(reports[1]?.sequenceNumbers);
  });

  it('fails the whole batch for a response naming a record not in it, or a thrown error', async () => {
    const table = await makeTable();
    for (const pk of ['k1', 'k2']) await put(table.name, { pk });
    const seen = recorder((_event, call) => {
      if (call === 1) return { batchItemFailures: [{ itemIdentifier: 'not-in-the-batch' }] };
      if (call === 2) throw new Error('boom');
      return undefined;
    });
    const { reports, poller: p } = poller(table, seen.handler);
    await until(() => seen.calls.length === 3);
    expect(seen.calls).toEqual([
      ['k1', 'k2'],
      ['k1', 'k2'],
      ['k1', 'k2'],
    ]);
    expect(reports.map((r) => r.outcome)).toEqual(['partial', 'error', 'success']);
    expect(p.stats).toMatchObject({ retries: 2, handlerErrors: 1, partialFailures: 1, succeeded: 2 });
  });

  it('after MaximumRetryAttempts, describes the batch on the failure queue and goes on with the shard', async () => {
    const table = await makeTable();
    const queue = await makeQueue();
    for (const pk of ['bad1', 'bad2']) await put(table.name, { pk });
    const seen = recorder((event) => {
      if (event.Records.some((r) => keyOf(r).startsWith('bad'))) throw new Error('always');
      return undefined;
    });
    const { poller: p } = poller(table, seen.handler, {
      maximumRetryAttempts: 2,
      onFailure: { sqs: clients.sqs, queueUrl: queue.url },
      functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test-sync',
    });
    const [message] = await failures(queue.url, 1);
    expect(seen.calls).toEqual([
      ['bad1', 'bad2'],
      ['bad1', 'bad2'],
      ['bad1', 'bad2'],
    ]);
    const sequences = seen.records.slice(0, 2).map((r) => r.dynamodb?.SequenceNumber);
    expect(message).toMatchObject({
      version: '1.0',
      requestContext: {
        functionArn: 'arn:aws:lambda:us-east-1:123456789012:function:test-sync',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      DDBStreamBatchInfo: {
        startSequenceNumber: sequences[0],
        endSequenceNumber: sequences[1],
        batchSize: 2,
        streamArn: table.streamArn,
      },
    });
    expect(message?.DDBStreamBatchInfo.shardId).toMatch(/^shardId-/);
    expect(message?.DDBStreamBatchInfo.approximateArrivalOfFirstRecord).toMatch(/^\d{4}-\d\d-\d\dT.*Z$/);
    await put(table.name, { pk: 'good' });
    await until(() => seen.keys().includes('good'));
    expect(seen.calls.at(-1)).toEqual(['good']);
    expect(p.stats).toMatchObject({ discardedRecords: 2, destinationMessages: 1 });
  });

  it('bisects a failing batch until the bad record is alone, and discards only that one', async () => {
    const table = await makeTable();
    const queue = await makeQueue();
    for (const pk of ['a', 'b', 'bad', 'd']) await put(table.name, { pk });
    const seen = recorder((event) => {
      if (event.Records.some((r) => keyOf(r) === 'bad')) throw new Error('bad record');
      return undefined;
    });
    poller(table, seen.handler, {
      bisectBatchOnFunctionError: true,
      maximumRetryAttempts: 1,
      onFailure: { sqs: clients.sqs, queueUrl: queue.url },
    });
    const [message] = await failures(queue.url, 1);
    await until(() => seen.keys().includes('d'));
    expect(seen.calls).toEqual([['a', 'b', 'bad', 'd'], ['a', 'b'], ['bad', 'd'], ['bad'], ['bad'], ['d']]);
    const bad = seen.records.find((r) => keyOf(r) === 'bad')?.dynamodb?.SequenceNumber;
    expect(message?.DDBStreamBatchInfo).toMatchObject({
      startSequenceNumber: bad,
      endSequenceNumber: bad,
      batchSize: 1,
    });
    expect(message?.requestContext).toMatchObject({
      condition: 'RetryAttemptsExhausted',
      approximateInvokeCount: 2,
    });
  });

  it('skips records older than MaximumRecordAgeInSeconds without invoking, describing them as such', async () => {
    const table = await makeTable();
    const queue = await makeQueue();
    await put(table.name, { pk: 'stale' });
    // Creation times have whole seconds: four seconds on, the record is past a three-second limit.
    await sleep(4000);
    const seen = recorder();
    poller(table, seen.handler, {
      maximumRecordAgeSeconds: 3,
      onFailure: { sqs: clients.sqs, queueUrl: queue.url },
    });
    const [message] = await failures(queue.url, 1);
    expect(message?.requestContext).toMatchObject({
      condition: 'RecordAgeExceeded',
      approximateInvokeCount: 0,
    });
    expect(message?.DDBStreamBatchInfo.batchSize).toBe(1);
    await put(table.name, { pk: 'fresh' });
    await until(() => seen.keys().includes('fresh'));
    expect(seen.keys()).toEqual(['fresh']);
  });

  it('stop() lets the running invocation finish, cuts a retry wait short, and delivers nothing after', async () => {
    const table = await makeTable();
    let release: () => void = () => {};
    let finished = false;
    const seen = recorder();
    const { poller: p } = poller(
      table,
      async (event, context) => {
        await seen.handler(event, context);
        await new Promise<void>((resolve) => {
          release = resolve;
        });
        finished = true;
        throw new Error('and retry, a minute from now');
      },
      { retryDelayMs: 60_000 },
    );
    await put(table.name, { pk: 'a' });
    await until(() => seen.calls.length === 1);
    let stopped = false;
    const stopping = p.stop().then((stats) => {
      stopped = true;
      return stats;
    });
    release();
    await until(() => stopped, 10_000);
    expect(finished).toBe(true);
    const stats = await stopping;
    expect(stats).toMatchObject({ invocations: 1, inFlight: 0, shards: 0 });
    expect(p.running).toBe(false);
    await put(table.name, { pk: 'b' });
    await sleep(500);
    expect(seen.calls).toEqual([['a']]);
  });

  it('refuses at construction a filter it cannot evaluate exactly', () => {
    const make = (pattern: unknown) =>
      new StreamPoller({
        streams: createStreamsClient({ endpoint, region: REGION }),
        streamArn: 'arn:aws:dynamodb:us-east-1:123456789012:table/t/stream/x',
        region: REGION,
        handler: async () => undefined,
        functionName: 'f',
        timeoutSeconds: 1,
        startingPosition: 'TRIM_HORIZON',
        filterCriteria: { Filters: [{ Pattern: JSON.stringify(pattern) }] },
      });
    expect(() => make({ eventName: [{ wildcard: 'MOD*' }] })).toThrow(FilterPatternError);
    expect(() => make({ eventName: [{ wildcard: 'MOD*' }] })).toThrow(/wildcard/);
  });
});

describe('the local cloud', () => {
  it('runs the Beat sync function from its table stream, with the mapping of the synthesized stack', async () => {
    const cloud = await startLocalCloud({
      template: synthTemplate({ bundling: false, stackName: 'StreamWired' }),
      stackName: 'StreamWired',
      endpoint,
      logLevel: 'silent',
      overrides: { waitTimeSeconds: 1 },
    });
    try {
      const [worker] = cloud.streamWorkers;
      expect(cloud.streamWorkers).toHaveLength(1);
      expect(worker?.function.entry).toBe('functions/beat-sync.ts');
      expect(worker?.mapping).toMatchObject({
        startingPosition: 'TRIM_HORIZON',
        batchSize: 100,
        functionResponseTypes: ['ReportBatchItemFailures'],
        bisectBatchOnFunctionError: true,
        filterCriteria: streamFilterPatterns(),
        onFailure: { queueLogicalId: expect.any(String) },
      });
      const { config, clients: cloudClients } = cloud;
      const schedule = async (name: string): Promise<GetScheduleOutput | undefined> =>
        cloudClients.scheduler
          .send(new GetScheduleCommand({ Name: scheduleName(name), GroupName: config.beat?.groupName }))
          .catch((error: Error) => {
            if (error.name === 'ResourceNotFoundException') return undefined;
            throw error;
          });
      const store = createPeriodicTaskStore({ config, clients: cloudClients, registry: false });
      await store.add({
        name: 'wired',
        task: 'apps.demo.tasks.add',
        interval: { every: 5, period: 'minutes' },
      });
      await until(async () => (await schedule('wired'))?.ScheduleExpression === 'rate(5 minutes)');

      // A worker's run-statistics write: consumed by the filter, no invocation.
      const invocations = worker?.poller.stats.invocations;
      await cloudClients.dynamo.send(
        new UpdateCommand({
          TableName: config.beat?.table,
          Key: { name: 'wired' },
          UpdateExpression: 'SET lastWrite = :run',
          ExpressionAttributeValues: { ':run': 'run' },
        }),
      );
      await until(() => worker?.poller.stats.filteredOut === 1);
      expect(worker?.poller.stats.invocations).toBe(invocations);

      await store.remove('wired');
      await until(async () => (await schedule('wired')) === undefined);
    } finally {
      await cloud.stop();
    }
    expect(cloud.streamWorkers.every((w) => !w.poller.running)).toBe(true);
  });
});
