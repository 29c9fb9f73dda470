/**
 * One invocation of a stream mapping's function, as Lambda makes it: the batch's records in an
 * event of their own, a Lambda context with the function's deadline, and the answer read as Lambda
 * reads it (a throw or timeout fails the batch; a partial batch response resumes at the lowest
 * failed record). The poller decides what happens next: retry, bisect, discard.
 */
import { randomUUID } from 'node:crypto';
import type { DynamoDBRecord } from 'aws-lambda';
import { lambdaContext } from './sqs-event.ts';
import { resumeIndex, runHandler, sequenceOf } from './stream-event.ts';
import type { StreamBatchReport, StreamPollerOptions } from './stream-types.ts';

export interface RunResult {
  /** Index of the first record to run again; undefined when the whole batch is finished. */
  resumeAt?: number;
  functionError?: string;
}

type Invoked = Pick<
  StreamPollerOptions,
  'handler' | 'functionName' | 'region' | 'timeoutSeconds' | 'reportBatchItemFailures' | 'streamArn'
> & { memoryMb: number };

export async function invokeBatch(
  o: Invoked,
  shardId: string,
  records: DynamoDBRecord[],
  attempt: number,
): Promise<{ result: RunResult; report: StreamBatchReport }> {
  const requestId = randomUUID();
  const startedAt = Date.now();
  const timeoutMs = o.timeoutSeconds * 1000;
  let outcome: StreamBatchReport['outcome'] = 'success';
  let error: Error | undefined;
  let result: RunResult = {};
  const context = lambdaContext({
    requestId,
    deadline: startedAt + timeoutMs,
    functionName: o.functionName,
    region: o.region,
    memoryMb: o.memoryMb,
  });
  // Each invocation gets its own copy, as each Lambda event is parsed anew.
  const run = await runHandler(o.handler, { Records: structuredClone(records) }, context, timeoutMs);
  if (run.kind === 'threw' || run.kind === 'timeout') {
    outcome = run.kind === 'threw' ? 'error' : 'timeout';
    if (run.kind === 'threw') error = run.error;
    result = { resumeAt: 0, functionError: 'Unhandled' };
  } else if (o.reportBatchItemFailures) {
    const resume = resumeIndex(run.response, records);
    if (resume !== 'none') {
      outcome = 'partial';
      result = { resumeAt: resume === 'all' ? 0 : resume };
    }
  }
  const sequenceNumbers = records.map(sequenceOf);
  const report: StreamBatchReport = {
    requestId,
    functionName: o.functionName,
    streamArn: o.streamArn,
    shardId,
    sequenceNumbers,
    failed: result.resumeAt === undefined ? [] : sequenceNumbers.slice(result.resumeAt),
    outcome,
    ...(error ? { error } : {}),
    attempt,
    startedAt,
    durationMs: Date.now() - startedAt,
  };
  return { result, report };
}
