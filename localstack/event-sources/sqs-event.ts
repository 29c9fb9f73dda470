import type { Message } from '@aws-sdk/client-sqs';
import type { Context, SQSMessageAttributes, SQSRecord } from 'aws-lambda';

/** A received message as Lambda puts it in an `SQSEvent`. */
export function toSqsRecord(message: Message, queueArn: string, region: string): SQSRecord {
  const attributes = message.Attributes ?? {};
  return {
    messageId: message.MessageId as string,
    receiptHandle: message.ReceiptHandle as string,
    body: message.Body ?? '',
    attributes: {
      ApproximateReceiveCount: attributes.ApproximateReceiveCount ?? '1',
      SentTimestamp: attributes.SentTimestamp ?? String(Date.now()),
      SenderId: attributes.SenderId ?? '',
      ApproximateFirstReceiveTimestamp: attributes.ApproximateFirstReceiveTimestamp ?? String(Date.now()),
      ...(attributes.AWSTraceHeader ? { AWSTraceHeader: attributes.AWSTraceHeader } : {}),
      ...(attributes.SequenceNumber ? { SequenceNumber: attributes.SequenceNumber } : {}),
      ...(attributes.MessageGroupId ? { MessageGroupId: attributes.MessageGroupId } : {}),
      ...(attributes.MessageDeduplicationId
        ? { MessageDeduplicationId: attributes.MessageDeduplicationId }
        : {}),
      ...(attributes.DeadLetterQueueSourceArn
        ? { DeadLetterQueueSourceArn: attributes.DeadLetterQueueSourceArn }
        : {}),
    },
    messageAttributes: messageAttributes(message),
    md5OfBody: message.MD5OfBody ?? '',
    ...(message.MD5OfMessageAttributes ? { md5OfMessageAttributes: message.MD5OfMessageAttributes } : {}),
    eventSource: 'aws:sqs',
    eventSourceARN: queueArn,
    awsRegion: region,
  };
}

/** A Lambda-like context; the remaining time counts down to the function's timeout. */
export function lambdaContext(o: {
  requestId: string;
  deadline: number;
  functionName: string;
  region: string;
  memoryMb: number;
}): Context {
  const { functionName, region, requestId, deadline } = o;
  const unsupported = () => {
    throw new Error('callback-style completion is not supported: return a promise');
  };
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:${region}:123456789012:function:${functionName}`,
    memoryLimitInMB: String(o.memoryMb),
    awsRequestId: requestId,
    logGroupName: `/aws/lambda/${functionName}`,
    logStreamName: `local/${requestId}`,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
    done: unsupported,
    fail: unsupported,
    succeed: unsupported,
  };
}

/** Binary values arrive base64-encoded in a Lambda event, as here. */
function messageAttributes(message: Message): SQSMessageAttributes {
  const out: SQSMessageAttributes = {};
  for (const [name, value] of Object.entries(message.MessageAttributes ?? {})) {
    out[name] = {
      dataType: value.DataType ?? 'String',
      ...(value.StringValue !== undefined ? { stringValue: value.StringValue } : {}),
      ...(value.BinaryValue !== undefined
        ? { binaryValue: Buffer.from(value.BinaryValue).toString('base64') }
        : {}),
      stringListValues: value.StringListValues ?? [],
      binaryListValues: (value.BinaryListValues ?? []).map((b) => Buffer.from(b).toString('base64')),
    };
  }
  return out;
}

/**
 * The records a partial batch response asks back, read as Lambda reads it: an empty or absent list
 * means all done; an identifier that is empty or not in the batch fails the whole batch.
 */
export function reportedFailures(response: unknown, records: readonly SQSRecord[]): string[] {
  const all = records.map((r) => r.messageId);
  if (response === undefined || response === null || response === '') return [];
  if (typeof response !== 'object') return all;
  const list = (response as { batchItemFailures?: unknown }).batchItemFailures;
  if (list === undefined || list === null) return [];
  if (!Array.isArray(list)) return all;
  const ids = new Set(all);
  const failed = new Set<string>();
  for (const item of list) {
    const id = (item as { itemIdentifier?: unknown } | null)?.itemIdentifier;
    if (typeof id !== 'string' || !ids.has(id)) return all;
    failed.add(id);
  }
  return [...failed];
}

/** Why a returned response left records undone: it named them, or Lambda could not read it. */
export function partialCause(response: unknown, failed: readonly string[], size: number): string {
  const named = (response as { batchItemFailures?: unknown } | null | undefined)?.batchItemFailures;
  const ids = new Set(failed);
  const readable =
    Array.isArray(named) &&
    named.every((item) => ids.has((item as { itemIdentifier?: unknown } | null)?.itemIdentifier as string));
  return readable
    ? `the function returned ${failed.length} of ${size} records as batchItemFailures`
    : 'the response was not a valid partial batch response (an identifier missing or not in the batch), so the whole batch failed';
}
