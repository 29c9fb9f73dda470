import {
  type CloudWatchClient,
  GetMetricDataCommand,
  type MetricDataQuery,
} from '@aws-sdk/client-cloudwatch';
import type { OpsContext } from './context.ts';
import { OperationFailedError } from './errors.ts';

export interface OldestAgeOptions {
  /**
   * How long one answer serves: SQS publishes its metrics once a minute, so asking more often
   * only costs requests. @defaultValue 60 seconds
   */
  cacheMs?: number;
  /** How far back a datapoint still counts. @defaultValue 5 minutes */
  windowSeconds?: number;
  /** Told of a failed read (the queues view then shows null); a log line, say. */
  onError?: (error: OperationFailedError) => void;
  /** @defaultValue the wall clock */
  clock?: () => Date;
}

/** GetMetricData takes at most 500 queries a call: any real stack's route queues fit in one. */
const MAX_QUERIES = 500;

/** `https://sqs.../123456789012/celerity-default` → `celerity-default`, the metric's `QueueName`. */
export const queueNameOfUrl = (url: string) => url.slice(url.lastIndexOf('/') + 1);

/**
 * `OpsContext.oldestAgeSeconds` from CloudWatch: SQS's `ApproximateAgeOfOldestMessage` for every
 * given queue in one GetMetricData call (Maximum per minute over the last five minutes, the newest
 * minute's value), shared by the queues view's parallel asks and kept for `cacheMs`. A queue with
 * no datapoint in the window (idle long enough that SQS stopped publishing, or just created) is
 * null: unknown, not zero. A failed call rejects with `OperationFailedError` and is not kept, so
 * the next view asks again.
 */
export function cloudWatchOldestAge(
  /** Called on the first read, so a container that never shows the queues never builds the client. */
  cloudwatch: () => Pick<CloudWatchClient, 'send'>,
  urls: readonly string[],
  options: OldestAgeOptions = {},
): NonNullable<OpsContext['oldestAgeSeconds']> {
  const cacheMs = options.cacheMs ?? 60_000;
  const windowSeconds = options.windowSeconds ?? 300;
  const now = () => options.clock?.() ?? new Date();
  let cached: { at: number; ages: Promise<Map<string, number | null>> } | undefined;

  const read = async (names: readonly string[]): Promise<Map<string, number | null>> => {
    const ages = new Map<string, number | null>(names.map((name) => [name, null]));
    const end = now();
    const start = new Date(end.getTime() - windowSeconds * 1000);
    for (let i = 0; i < names.length; i += MAX_QUERIES) {
      const chunk = names.slice(i, i + MAX_QUERIES);
      // Query ids must start with a lower-case letter: the queue's position stands for its name.
      const queries: MetricDataQuery[] = chunk.map((name, k) => ({
        Id: `q${k}`,
        MetricStat: {
          Metric: {
            Namespace: 'AWS/SQS',
            MetricName: 'ApproximateAgeOfOldestMessage',
            Dimensions: [{ Name: 'QueueName', Value: name }],
          },
          Period: 60,
          Stat: 'Maximum',
        },
        ReturnData: true,
      }));
      let output: Awaited<ReturnType<typeof sendQuery>>;
      try {
        output = await sendQuery(cloudwatch(), queries, start, end);
      } catch (error) {
        throw new OperationFailedError(
          `CloudWatch GetMetricData for the queues' oldest message failed: ${(error as Error).message}`,
          { queues: chunk },
          { cause: error },
        );
      }
      for (const result of output.MetricDataResults ?? []) {
        const name = chunk[Number(result.Id?.slice(1))];
        // Newest first (ScanBy), so the first value is the latest minute's.
        const value = result.Values?.[0];
        if (name !== undefined && value !== undefined && Number.isFinite(value)) {
          ages.set(name, Math.round(value));
        }
      }
    }
    return ages;
  };

  const names = [...new Set(urls.map(queueNameOfUrl))];
  return async (_queue, url) => {
    const name = queueNameOfUrl(url);
    const at = now().getTime();
    let entry = cached;
    if (!entry || at - entry.at >= cacheMs || !names.includes(name)) {
      if (!names.includes(name)) names.push(name);
      const ages = read([...names]);
      entry = { at, ages };
      cached = entry;
      ages.catch((error: OperationFailedError) => {
        if (cached?.ages === ages) cached = undefined;
        options.onError?.(error);
      });
    }
    return (await entry.ages).get(name) ?? null;
  };
}

function sendQuery(
  cloudwatch: Pick<CloudWatchClient, 'send'>,
  queries: MetricDataQuery[],
  start: Date,
  end: Date,
) {
  return cloudwatch.send(
    new GetMetricDataCommand({
      MetricDataQueries: queries,
      StartTime: start,
      EndTime: end,
      ScanBy: 'TimestampDescending',
    }),
  );
}
