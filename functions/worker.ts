import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createWorkerRuntime } from '../shared/app.ts';
import './tasks/index.ts';

// Built once per container, after the tasks above have registered themselves.
const runtime = createWorkerRuntime();

/** The SQS-triggered worker: one batch in, the records that must come back out. */
export const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>().handler((event, context) =>
  runtime.processBatch(event.Records, {
    requestId: context.awsRequestId,
    remainingTimeMs: () => context.getRemainingTimeInMillis(),
  }),
);
