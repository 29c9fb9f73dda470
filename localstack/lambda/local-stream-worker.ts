/**
 * The stream mappings (the Beat sync) run in-process: their functions imported as Lambda loads
 * them, fed by a `StreamPoller` with the mapping's settings. Split from `local-cloud.ts`.
 */
import {
  type AwsClients,
  getAwsClients,
  type RequestCounter,
  resetAwsClients,
} from '../../shared/aws/index.ts';
import { configure } from '../../shared/config/index.ts';
import { createLogger } from '../../shared/log.ts';
import { invocationEntry, type LogSink } from '../dev/log-sink.ts';
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

/** Sets (or, for `undefined`, removes) process variables; returns what they were, to put back. */
export function applyEnv(values: Record<string, string | undefined>): Record<string, string | undefined> {
  const previous: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(values)) {
    previous[key] = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  return previous;
}

let loads = 0;

/**
 * A function's exported handler, loaded as Lambda loads it: imported with the process environment
 * set to the function's (an entry builds its clients and config at import, from `getConfig()` and
 * `getAwsClients()`), which is put back afterwards. Each load is a fresh instance of the entry, so
 * a second local cloud in the same process does not get the first one's.
 */
async function loadHandler(
  fn: LocalFunction,
  env: Record<string, string>,
): Promise<{ handler: StreamHandler; requests: RequestCounter }> {
  if (!fn.entry) throw new Error(`function ${fn.logicalId} has no celerity:entry metadata to load it from`);
  const url = new URL(`../../${fn.entry}`, import.meta.url);
  url.searchParams.set('local-cloud', String(++loads));
  const previous = applyEnv(env);
  let module: Record<string, unknown>;
  let requests: RequestCounter;
  try {
    resetAwsClients();
    configure({});
    // The clients the entry will get from getAwsClients() at import: made here to count its requests.
    requests = getAwsClients().requests;
    module = await import(url.href);
  } catch (error) {
    throw new Error(`could not load ${fn.entry} for function ${fn.logicalId}: ${(error as Error).message}`, {
      cause: error,
    });
  } finally {
    applyEnv(previous);
    resetAwsClients();
    configure({});
  }
  const name = fn.handler ?? 'handler';
  const handler = module[name];
  if (typeof handler !== 'function') throw new Error(`${fn.entry} exports no function named ${name}`);
  return { handler: (event, context) => handler(event, context), requests };
}

/** A stream mapping's function, imported from its entry, fed by a poller with the mapping's settings. */
export async function startStreamWorker(
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
  const { handler, requests } = await loadHandler(fn, {
    AWS_ENDPOINT_URL: endpoint,
    AWS_REGION: region,
    ...fn.environment,
    ...(level ? { LOG_LEVEL: level } : {}),
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
  const worker: LocalStreamWorker = { mapping, function: fn, table, poller, requests };
  poller.start();
  return worker;
}
