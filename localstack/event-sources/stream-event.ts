import type { _Record, AttributeValue as StreamAttributeValue } from '@aws-sdk/client-dynamodb-streams';
import type { AttributeValue, Context, DynamoDBRecord } from 'aws-lambda';

/** Binary values travel base64-encoded in a Lambda event, where the SDK hands back bytes. */
function attributeValue(value: StreamAttributeValue): AttributeValue {
  if (value.B !== undefined) return { B: Buffer.from(value.B).toString('base64') };
  if (value.BS !== undefined) return { BS: value.BS.map((b) => Buffer.from(b).toString('base64')) };
  if (value.L !== undefined) return { L: value.L.map(attributeValue) };
  if (value.M !== undefined) return { M: image(value.M) };
  if (value.S !== undefined) return { S: value.S };
  if (value.N !== undefined) return { N: value.N };
  if (value.BOOL !== undefined) return { BOOL: value.BOOL };
  if (value.NULL !== undefined) return { NULL: value.NULL };
  if (value.SS !== undefined) return { SS: value.SS };
  if (value.NS !== undefined) return { NS: value.NS };
  throw new Error(`unknown attribute value type: ${Object.keys(value).join(', ')}`);
}

function image(values: Record<string, StreamAttributeValue>): Record<string, AttributeValue> {
  return Object.fromEntries(Object.entries(values).map(([key, value]) => [key, attributeValue(value)]));
}

/**
 * A record from GetRecords as Lambda puts it in a `DynamoDBStreamEvent`: attribute values in
 * their JSON form and `ApproximateCreationDateTime` in epoch seconds (the SDK parses it to a Date).
 */
export function toStreamRecord(record: _Record, streamArn: string, region: string): DynamoDBRecord {
  const d = record.dynamodb ?? {};
  const created = d.ApproximateCreationDateTime;
  return {
    eventID: record.eventID as string,
    eventName: record.eventName as DynamoDBRecord['eventName'],
    eventVersion: record.eventVersion ?? '1.1',
    eventSource: record.eventSource ?? 'aws:dynamodb',
    awsRegion: record.awsRegion ?? region,
    dynamodb: {
      ...(created ? { ApproximateCreationDateTime: Math.floor(created.getTime() / 1000) } : {}),
      ...(d.Keys ? { Keys: image(d.Keys) } : {}),
      ...(d.NewImage ? { NewImage: image(d.NewImage) } : {}),
      ...(d.OldImage ? { OldImage: image(d.OldImage) } : {}),
      SequenceNumber: d.SequenceNumber as string,
      ...(d.SizeBytes !== undefined ? { SizeBytes: d.SizeBytes } : {}),
      ...(d.StreamViewType ? { StreamViewType: d.StreamViewType } : {}),
    },
    eventSourceARN: streamArn,
    ...(record.userIdentity
      ? { userIdentity: { type: record.userIdentity.Type, principalId: record.userIdentity.PrincipalId } }
      : {}),
  };
}

export function sequenceOf(record: DynamoDBRecord): string {
  return record.dynamodb?.SequenceNumber as string;
}

/** Sequence numbers are decimal strings of varying length: compare them as numbers. */
export function compareSequence(a: string, b: string): number {
  const x = BigInt(a);
  const y = BigInt(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * Where a partial batch response asks Lambda to resume, read as Lambda reads it: `'none'` when
 * all is done (no response, no or an empty list), the index of the failed record with the lowest
 * sequence number, or `'all'` when the response is malformed (an identifier that is empty, not a
 * string, or not in the batch), which fails the whole batch.
 */
export function resumeIndex(response: unknown, records: readonly DynamoDBRecord[]): number | 'none' | 'all' {
  if (response === undefined || response === null || response === '') return 'none';
  if (typeof response !== 'object') return 'all';
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return 'none';
  if (!Array.isArray(list)) return 'all';
  if (list.length === 0) return 'none';
  const positions = new Map(records.map((r, index) => [sequenceOf(r), index]));
  let lowest = Number.POSITIVE_INFINITY;
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    const index = typeof id === 'string' ? positions.get(id) : undefined;
    if (index === undefined) return 'all';
    lowest = Math.min(lowest, index);
  }
  return lowest;
}

/** Why a batch was given up on, in the words Lambda's invocation record uses. */
export type DiscardCondition = 'RetryAttemptsExhausted' | 'RecordAgeExceeded';

function isoSeconds(epochSeconds: number | undefined): string | undefined {
  return epochSeconds === undefined
    ? undefined
    : new Date(epochSeconds * 1000).toISOString().replace(/\.\d+Z$/, 'Z');
}

/** What Lambda sends to a stream mapping's on-failure destination (an SQS or SNS message body). */
export interface StreamInvocationRecord {
  requestContext: {
    requestId: string;
    functionArn: string;
    condition: DiscardCondition;
    approximateInvokeCount: number;
  };
  /** How the last invocation ended; absent when the records were discarded before any. */
  responseContext?: { statusCode: number; executedVersion: string; functionError?: string };
  version: '1.0';
  timestamp: string;
  DDBStreamBatchInfo: {
    shardId: string;
    startSequenceNumber: string;
    endSequenceNumber: string;
    approximateArrivalOfFirstRecord?: string;
    approximateArrivalOfLastRecord?: string;
    batchSize: number;
    streamArn: string;
  };
}

/** Where the discarded records are in the stream (not the records themselves), and how the last run ended. */
export function invocationRecord(o: {
  requestId: string;
  functionArn: string;
  condition: DiscardCondition;
  approximateInvokeCount: number;
  /** The last invocation's error type (`Unhandled` for a throw or timeout), when it had one. */
  functionError?: string;
  shardId: string;
  streamArn: string;
  records: readonly DynamoDBRecord[];
}): StreamInvocationRecord {
  const first = o.records[0]?.dynamodb;
  const last = o.records.at(-1)?.dynamodb;
  const firstArrival = isoSeconds(first?.ApproximateCreationDateTime);
  const lastArrival = isoSeconds(last?.ApproximateCreationDateTime);
  return {
    requestContext: {
      requestId: o.requestId,
      functionArn: o.functionArn,
      condition: o.condition,
      approximateInvokeCount: o.approximateInvokeCount,
    },
    ...(o.approximateInvokeCount > 0
      ? {
          responseContext: {
            statusCode: 200,
            executedVersion: '$LATEST',
            ...(o.functionError ? { functionError: o.functionError } : {}),
          },
        }
      : {}),
    version: '1.0',
    timestamp: new Date().toISOString(),
    DDBStreamBatchInfo: {
      shardId: o.shardId,
      startSequenceNumber: first?.SequenceNumber as string,
      endSequenceNumber: last?.SequenceNumber as string,
      ...(firstArrival ? { approximateArrivalOfFirstRecord: firstArrival } : {}),
      ...(lastArrival ? { approximateArrivalOfLastRecord: lastArrival } : {}),
      batchSize: o.records.length,
      streamArn: o.streamArn,
    },
  };
}

export type HandlerRun =
  | { kind: 'returned'; response: unknown }
  | { kind: 'threw'; error: Error }
  | { kind: 'timeout' };

/**
 * Runs a handler for at most its function's timeout. Lambda would end the run there; in-process
 * the body may go on, but its outcome no longer counts.
 */
export async function runHandler<E>(
  handler: (event: E, context: Context) => Promise<unknown>,
  event: E,
  context: Context,
  timeoutMs: number,
): Promise<HandlerRun> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<HandlerRun>((resolve) => {
    timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
  });
  try {
    return await Promise.race([
      handler(event, context).then((response): HandlerRun => ({ kind: 'returned', response })),
      timedOut,
    ]);
  } catch (thrown) {
    return { kind: 'threw', error: thrown instanceof Error ? thrown : new Error(String(thrown)) };
  } finally {
    clearTimeout(timer);
  }
}
