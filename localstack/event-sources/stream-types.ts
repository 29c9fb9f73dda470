import type { DynamoDBStreamsClient } from '@aws-sdk/client-dynamodb-streams';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import type { Logger } from '../../shared/log.ts';
import type { FilterCriteria } from './event-filter.ts';

/**
 * A function as Lambda calls it from a DynamoDB stream: `functions/beat-sync.ts`, or a test's
 * stand-in. What it returns is read as a `DynamoDBBatchResponse` when the mapping reports batch
 * item failures.
 */
export type StreamHandler = (event: DynamoDBStreamEvent, context: Context) => Promise<unknown>;

export type StreamPollerActivity = 'describe' | 'read' | 'destination';

export interface StreamPollerOptions {
  /** Make it with `createStreamsClient`, so its requests are counted with the others. */
  streams: DynamoDBStreamsClient;
  streamArn: string;
  region: string;
  handler: StreamHandler;
  functionName: string;
  /** @defaultValue `arn:aws:lambda:<region>:123456789012:function:<functionName>` */
  functionArn?: string;
  /** The function's timeout: the context's remaining time, and when a run counts as failed. */
  timeoutSeconds: number;
  memoryMb?: number;
  /** The mapping's `StartingPosition`, for the shards open when the poller starts. */
  startingPosition: 'TRIM_HORIZON' | 'LATEST';
  /** The mapping's `BatchSize` (1–10,000). @defaultValue 100 */
  batchSize?: number;
  /** The mapping's `MaximumBatchingWindowInSeconds` (0–300). @defaultValue 0 */
  maximumBatchingWindowSeconds?: number;
  /** Records no filter matches are consumed without an invocation. Compiled (or refused) at construction. */
  filterCriteria?: FilterCriteria;
  /** `FunctionResponseTypes` includes `ReportBatchItemFailures`. @defaultValue false */
  reportBatchItemFailures?: boolean;
  /** `BisectBatchOnFunctionError`. @defaultValue false */
  bisectBatchOnFunctionError?: boolean;
  /** `MaximumRetryAttempts`; -1 retries until the record expires (here: until stopped). @defaultValue -1 */
  maximumRetryAttempts?: number;
  /** `MaximumRecordAgeInSeconds`; -1 is no limit. AWS's least is 60; any is taken here. @defaultValue -1 */
  maximumRecordAgeSeconds?: number;
  /** `DestinationConfig.OnFailure` when it is a queue: where discarded batches are described. */
  onFailure?: { sqs: SQSClient; queueUrl: string };
  /** Between reads of an idle shard; Lambda polls each shard four times a second. @defaultValue 250 */
  pollIntervalMs?: number;
  /** Before the first retry of a failed batch; doubles per retry up to 30 s. @defaultValue 1000 */
  retryDelayMs?: number;
  /** Between looks for new shards (a closed shard's children). @defaultValue 10000 */
  shardRefreshMs?: number;
  /** Called after every invocation, whatever its outcome. */
  onBatch?: (report: StreamBatchReport) => void;
  /** Stream or destination calls that failed; the poller carries on. @defaultValue logged as errors */
  onError?: (error: Error, during: StreamPollerActivity) => void;
  /** @defaultValue a JSON logger at `LOG_LEVEL` */
  logger?: Logger;
}

export interface StreamBatchReport {
  requestId: string;
  functionName: string;
  streamArn: string;
  shardId: string;
  sequenceNumbers: string[];
  /** Records to be delivered again (or discarded): the lowest failed one and those after it, or all. */
  failed: string[];
  outcome: 'success' | 'partial' | 'error' | 'timeout';
  error?: Error;
  /** Invocations these records have had, this one included (bisection starts a count anew). */
  attempt: number;
  startedAt: number;
  durationMs: number;
}

export interface StreamPollerStats {
  invocations: number;
  /** Records handed to the function, once per invocation. */
  records: number;
  /** Records that matched no filter: consumed, never delivered. */
  filteredOut: number;
  /** Records finished by a successful or partly successful run. */
  succeeded: number;
  handlerErrors: number;
  timeouts: number;
  partialFailures: number;
  retries: number;
  bisections: number;
  discardedRecords: number;
  destinationMessages: number;
  getRecords: number;
  /** Shards being read (0 once stopped). */
  shards: number;
  inFlight: number;
}
