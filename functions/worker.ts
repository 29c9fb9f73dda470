import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createWorkerRuntime } from '../shared/app-worker.ts';
import { createLogger } from '../shared/log.ts';
import { describeError } from '../shared/worker/execute.ts';
import './tasks/index.ts';

// Built once per container, after the tasks above have registered themselves.
const runtime = createWorkerRuntime();
const log = createLogger({ component: 'worker' });

/**
 * The SQS-triggered worker: one batch in, the records that must come back out. It never throws:
 * an unforeseen failure is logged with its cause and every record is returned, never a silent retry.
 */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>().handler(async (event, context) => {
  try {
    return await runtime.processBatch(event.Records, {
      requestId: context.awsRequestId,
      remainingTimeMs: () => context.getRemainingTimeInMillis(),
    });
  } catch (error) {
    log.error('worker invocation failed; every record of the batch will be delivered again', {
      requestId: context.awsRequestId,
      records: event.Records.map((r) => r.messageId),
      cause: describeError(error).traceback,
    });
    return { batchItemFailures: event.Records.map((r) => ({ itemIdentifier: r.messageId })) };
  }
});
