/**
 * The stream mappings (the Beat sync) run in-process: their functions imported as Lambda loads
 * them (`load-entry.ts`), fed by a `StreamPoller` with the mapping's settings.
 */
import type { AwsClients } from '../../shared/aws/index.ts';
import { createLogger } from '../../shared/log.ts';
import { functionLevel, invocationEntry, type LogSink } from '../dev/log-sink.ts';
import {
  createStreamsClient,
  type StreamBatchReport,
  type StreamHandler,
  StreamPoller,
  type StreamPollerOptions,
} from '../event-sources/stream-poller.ts';
import type { LocalCloudOptions, LocalStreamWorker } from '../local-cloud.ts';
import type {
  LocalEventSourceMapping,
  LocalFunction,
  LocalResources,
  LocalTable,
} from '../provision/provision.ts';
import { loadEntry } from './load-entry.ts';

/**
 * A stream mapping's function, imported from its entry, and the poller that will feed it with the
 * mapping's settings (not started: the local cloud starts every poller once every entry is loaded).
 */
export async function streamWorker(
  mapping: LocalEventSourceMapping,
  fn: LocalFunction,
  table: LocalTable,
  ctx: {
    clients: AwsClients;
    region: string;
    resources: LocalResources;
    options: LocalCloudOptions;
    logs: LogSink | undefined;
  },
  endpoint: string,
): Promise<LocalStreamWorker> {
  const { clients, region, resources, options, logs } = ctx;
  const level = options.logLevel ?? fn.environment.LOG_LEVEL;
  const { handler, clients: own } = await loadEntry<StreamHandler>(fn, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    ...fn.environment,
    ...(logs ? { LOG_LEVEL: functionLevel(level) } : level ? { LOG_LEVEL: level } : {}),
  });
  const base = { component: 'stream-poller', function: fn.name };
  const logger = logs ? logs.logger('beat', base, { terminalLevel: level }) : createLogger(base, { level });
  const destination = mapping.onFailure?.queueLogicalId
    ? resources.queues[mapping.onFailure.queueLogicalId]
    : undefined;
  if (mapping.onFailure && !destination) {
    logger.warn('the on-failure destination is not a queue here: discarded batches are only logged', {
      destination: mapping.onFailure.destination,
    });
  }
  let poller: StreamPoller;
  try {
    poller = new StreamPoller({
      streams: createStreamsClient({ endpoint, region }, clients.requests),
      streamArn: table.streamArn as string,
      region,
      handler,
      functionName: fn.name,
      functionArn: fn.arn,
      timeoutSeconds: fn.timeoutSeconds,
      memoryMb: fn.memoryMb,
      startingPosition: mapping.startingPosition as StreamPollerOptions['startingPosition'],
      batchSize: mapping.batchSize,
      maximumBatchingWindowSeconds: mapping.maximumBatchingWindowSeconds,
      reportBatchItemFailures: mapping.functionResponseTypes.includes('ReportBatchItemFailures'),
      ...(mapping.filterCriteria ? { filterCriteria: mapping.filterCriteria } : {}),
      ...(mapping.bisectBatchOnFunctionError !== undefined
        ? { bisectBatchOnFunctionError: mapping.bisectBatchOnFunctionError }
        : {}),
      ...(mapping.maximumRetryAttempts !== undefined
        ? { maximumRetryAttempts: mapping.maximumRetryAttempts }
        : {}),
      ...(mapping.maximumRecordAgeSeconds !== undefined
        ? { maximumRecordAgeSeconds: mapping.maximumRecordAgeSeconds }
        : {}),
      ...(destination ? { onFailure: { sqs: clients.sqs, queueUrl: destination.url } } : {}),
      logger,
      ...(options.onStreamBatch || logs
        ? {
            onBatch: (report: StreamBatchReport) => {
              if (logs)
                logs.append('beat', invocationEntry({ component: 'beat-sync', function: fn.name }, report));
              options.onStreamBatch?.(worker, report);
            },
          }
        : {}),
    });
  } catch (error) {
    // A filter or setting the local poller cannot honour exactly: say which mapping has it.
    throw new Error(`mapping ${mapping.logicalId}: ${(error as Error).message}`, { cause: error });
  }
  const worker: LocalStreamWorker = { mapping, function: fn, table, poller, requests: own.requests };
  return worker;
}
