/**
 * The SQS mappings (the task queues' workers) run in-process: `functions/worker.ts` imported as
 * Lambda loads it (`load-entry.ts`), with its middlewares (log context, metrics flush, invocation
 * deadline, records returned on error), fed by an `SqsPoller` with the mapping's settings.
 */
import type { AwsClients } from '../../shared/aws/index.ts';
import { createLogger } from '../../shared/log.ts';
import {
  functionLevel,
  invocationEntry,
  invocationFields,
  invocationLevel,
  type LogSink,
} from '../dev/log-sink.ts';
import { keepHandles } from '../event-sources/inflight-journal.ts';
import { type BatchReport, type SqsHandler, SqsPoller } from '../event-sources/sqs-poller.ts';
import type { LocalCloudOptions, LocalWorker } from '../local-cloud.ts';
import type { LocalEventSourceMapping, LocalFunction, LocalQueue } from '../provision/provision.ts';
import { loadEntry } from './load-entry.ts';

/**
 * A queue's worker function, imported from its entry with the function's environment (the route's
 * concurrency, the resource locations, the app's handed-on settings), and the poller that will
 * feed it with the mapping's settings (not started: the local cloud starts every poller once every
 * entry is loaded). The entry gets the local cloud's clients from `getAwsClients()`: fenced
 * against abandoned invocations, and counted with the pollers' requests.
 */
export async function sqsWorker(
  mapping: LocalEventSourceMapping,
  fn: LocalFunction,
  queue: LocalQueue,
  ctx: {
    clients: AwsClients;
    endpoint: string;
    region: string;
    options: LocalCloudOptions;
    logs: LogSink | undefined;
  },
): Promise<LocalWorker> {
  const { clients, endpoint, region, options, logs } = ctx;
  const level = options.logLevel ?? fn.environment.LOG_LEVEL;
  const { handler: entry } = await loadEntry<SqsHandler>(
    fn,
    {
      AWS_ENDPOINT_URL: endpoint,
      AWS_REGION: region,
      ...fn.environment,
      ...(logs ? { LOG_LEVEL: functionLevel(level) } : level ? { LOG_LEVEL: level } : {}),
    },
    clients,
  );
  // Lambda's own line for each invocation (its REPORT line), apart from what the function logs.
  const base = { component: 'worker', function: fn.name, route: queue.route };
  const logger = logs ? logs.logger('worker', base, { terminalLevel: level }) : createLogger(base, { level });
  const handler = options.wrapHandler?.(entry, { function: fn, queue }) ?? entry;
  const o = options.overrides ?? {};
  const window = o.maximumBatchingWindowSeconds ?? mapping.maximumBatchingWindowSeconds;
  const batchSize = o.batchSize ?? mapping.batchSize;
  const worker: LocalWorker = {
    mapping,
    function: fn,
    queue,
    poller: new SqsPoller({
      sqs: clients.sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      region,
      handler,
      functionName: fn.name,
      timeoutSeconds: o.functionTimeoutSeconds ?? fn.timeoutSeconds,
      memoryMb: fn.memoryMb,
      // Lambda takes more than 10 records a batch only with a window: without one, 10 it is.
      batchSize: window > 0 ? batchSize : Math.min(10, batchSize),
      maximumBatchingWindowSeconds: window,
      maxConcurrency: o.maxConcurrency ?? mapping.maximumConcurrency ?? 5,
      reportBatchItemFailures: mapping.functionResponseTypes.includes('ReportBatchItemFailures'),
      ...(o.waitTimeSeconds !== undefined ? { waitTimeSeconds: o.waitTimeSeconds } : {}),
      ...(o.visibilityTimeoutSeconds !== undefined
        ? { visibilityTimeoutSeconds: o.visibilityTimeoutSeconds }
        : {}),
      ...(options.inflight
        ? {
            inflight: keepHandles(
              options.inflight,
              clients.sqs,
              queue.url,
              o.visibilityTimeoutSeconds ?? queue.visibilityTimeoutSeconds,
            ),
          }
        : {}),
      onBatch: (report: BatchReport) => {
        // Records sent back to the queue are always said, on the terminal and in the file; a
        // batch that went well is a line in the file only, as Lambda's REPORT line.
        if (report.outcome !== 'success') {
          logger[invocationLevel(report.outcome)]('invocation', invocationFields(report));
        } else if (logs) logs.append('worker', invocationEntry(base, report));
        options.onBatch?.(worker, report);
      },
    }),
  };
  return worker;
}
