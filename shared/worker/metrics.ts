import { TaskState } from '../task/states.ts';
import type { Observation } from './ledger.ts';
import { WorkerMetrics } from './metric-names.ts';

/** One CloudWatch Embedded Metric Format document (one log line). */
export type EmfDocument = Record<string, unknown> & {
  _aws: {
    Timestamp: number;
    CloudWatchMetrics: {
      Namespace: string;
      Dimensions: string[][];
      Metrics: { Name: string; Unit: string }[];
    }[];
  };
};

/** Where the worker's metric documents go. */
export type MetricsSink = (document: EmfDocument) => void;

/** EMF takes at most 100 values for one metric in one document. */
const MAX_VALUES = 100;

const COUNTS = [
  [TaskState.SUCCESS, WorkerMetrics.succeeded],
  [TaskState.FAILURE, WorkerMetrics.failed],
  [TaskState.RETRY, WorkerMetrics.retried],
  [TaskState.REVOKED, WorkerMetrics.revoked],
] as const;

/**
 * In Lambda, EMF lines on stdout (CloudWatch Logs turns them into metrics, no API call); elsewhere
 * (the local cloud, tests) nothing, so a terminal is not flooded with them.
 */
export function defaultMetricsSink(env: NodeJS.ProcessEnv = process.env): MetricsSink {
  if (!env.AWS_LAMBDA_FUNCTION_NAME) return () => {};
  return (document) => {
    process.stdout.write(`${JSON.stringify(document)}\n`);
  };
}

/**
 * One document per queue and task of the batch: its counts by state, and its runtimes and queue
 * waits as value arrays, under the dimension sets `[Queue]` and `[Queue, Task]`.
 */
export function metricDocuments(observations: readonly Observation[], timestamp: number): EmfDocument[] {
  const groups = new Map<string, Observation[]>();
  for (const o of observations) {
    const key = JSON.stringify([o.queue, o.task]);
    groups.set(key, [...(groups.get(key) ?? []), o]);
  }
  const { dimensions } = WorkerMetrics;
  return [...groups.values()].flatMap((group) => {
    const first = group[0] as Observation;
    const runtimes = group.flatMap((o) => (o.runtimeMs === undefined ? [] : [Math.round(o.runtimeMs)]));
    const waits = group.flatMap((o) =>
      o.queueWaitMs === undefined ? [] : [Math.max(0, Math.round(o.queueWaitMs))],
    );
    const documents: EmfDocument[] = [];
    for (
      let offset = 0;
      offset === 0 || offset < Math.max(runtimes.length, waits.length);
      offset += MAX_VALUES
    ) {
      const values: Record<string, number | number[]> = {};
      const metrics: { Name: string; Unit: string }[] = [];
      if (offset === 0) {
        for (const [state, name] of COUNTS) {
          values[name] = group.filter((o) => o.state === state).length;
          metrics.push({ Name: name, Unit: 'Count' });
        }
      }
      for (const [name, list] of [
        [WorkerMetrics.runtime, runtimes],
        [WorkerMetrics.queueWait, waits],
      ] as const) {
        const slice = list.slice(offset, offset + MAX_VALUES);
        if (slice.length === 0) continue;
        values[name] = slice;
        metrics.push({ Name: name, Unit: 'Milliseconds' });
      }
      documents.push({
        _aws: {
          Timestamp: timestamp,
          CloudWatchMetrics: [
            {
              Namespace: WorkerMetrics.namespace,
              Dimensions: [[dimensions.queue], [dimensions.queue, dimensions.task]],
              Metrics: metrics,
            },
          ],
        },
        [dimensions.queue]: first.queue,
        [dimensions.task]: first.task,
        ...values,
      });
    }
    return documents;
  });
}
