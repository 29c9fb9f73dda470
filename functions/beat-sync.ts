import middy from '@middy/core';
import type { Context, DynamoDBBatchResponse, DynamoDBStreamEvent } from 'aws-lambda';
import { createBeatSync } from '../shared/app.ts';
import type { ReconcileReport } from '../shared/beat/sync.ts';
import { injectLambdaContext } from '../shared/middleware/log-context.ts';
import './tasks/index.ts';

// Built once per container, after the tasks above have registered themselves.
const sync = createBeatSync();

/** A direct invocation (on deploy, or by hand from the console) that repairs drift. */
export interface ReconcileRequest {
  action: 'reconcile';
}

/**
 * The periodic-tasks table's stream in, the records that must come back out; or a reconcile
 * request, which compares the whole table with the schedule group and repairs the difference.
 * Every log line names its invocation.
 */
export const handler = middy<
  DynamoDBStreamEvent | ReconcileRequest,
  DynamoDBBatchResponse | ReconcileReport,
  Error,
  Context
>()
  .use(injectLambdaContext())
  .handler((event) => ('Records' in event ? sync.handleStream(event.Records) : sync.reconcile()));
