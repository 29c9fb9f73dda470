import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createWorkerRuntime } from '../shared/app-worker.ts';
import {
  InvocationMetrics,
  injectLambdaContext,
  invocationDeadline,
  invocationSignal,
  logMetrics,
  returnRecordsOnError,
} from '../shared/middleware/index.ts';
import './tasks/index.ts';

// Built once per container, after the tasks above have registered themselves.
const metrics = new InvocationMetrics();
const runtime = createWorkerRuntime({ metrics: metrics.sink });

/**
 * The SQS-triggered worker: one batch in, the records that must come back out. Every log line
 * names its invocation; the batch's metrics are written once, returned or thrown; as the
 * invocation nears its end the runs not finished are given back; and it never throws: an
 * unforeseen failure is logged with its cause and every record is returned.
 */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
  .use(injectLambdaContext())
  .use(returnRecordsOnError())
  .use(logMetrics(metrics))
  .use(invocationDeadline())
  .handler((event, context) =>
    runtime.processBatch(event.Records, {
      requestId: context.awsRequestId,
      remainingTimeMs: () => context.getRemainingTimeInMillis(),
      signal: invocationSignal(context),
    }),
  );
