import { afterEach, describe, expect, it, vi } from 'vitest';
import { defaultMetricsSink, metricDocuments, WorkerMetrics } from '../../shared/worker/index.ts';

describe('worker metrics in the Embedded Metric Format', () => {
  afterEach(() => vi.restoreAllMocks());

  it('writes one document per queue and task with counts by state and runtimes and waits as arrays', () => {
    const documents = metricDocuments(
      [
        { queue: 'default', task: 'a.add', state: 'SUCCESS', runtimeMs: 12.4, queueWaitMs: 100 },
        { queue: 'default', task: 'a.add', state: 'SUCCESS', runtimeMs: 30, queueWaitMs: -5 },
        { queue: 'default', task: 'a.add', state: 'RETRY', runtimeMs: 7, queueWaitMs: 50 },
        { queue: 'heavy', task: 'a.file', state: 'FAILURE' },
      ],
      1_764_547_200_000,
    );
    const counts = ['TasksSucceeded', 'TasksFailed', 'TasksRetried', 'TasksRevoked'].map((Name) => ({
      Name,
      Unit: 'Count',
    }));
    const timings = ['TaskRuntime', 'TaskQueueWait'].map((Name) => ({ Name, Unit: 'Milliseconds' }));
    const aws = (metrics: { Name: string; Unit: string }[]) => ({
      Timestamp: 1_764_547_200_000,
      CloudWatchMetrics: [
        { Namespace: 'Celerity', Dimensions: [['Queue'], ['Queue', 'Task']], Metrics: metrics },
      ],
    });
    expect(documents).toEqual([
      {
        _aws: aws([...counts, ...timings]),
        Queue: 'default',
        Task: 'a.add',
        TasksSucceeded: 2,
        TasksFailed: 0,
        TasksRetried: 1,
        TasksRevoked: 0,
        TaskRuntime: [12, 30, 7],
        TaskQueueWait: [100, 0, 50],
      },
      {
        _aws: aws(counts),
        Queue: 'heavy',
        Task: 'a.file',
        TasksSucceeded: 0,
        TasksFailed: 1,
        TasksRetried: 0,
        TasksRevoked: 0,
      },
    ]);
  });

  it('keeps each value array within EMF’s 100 values, in further documents of the same dimensions', () => {
    const many = Array.from({ length: 150 }, (_, i) => ({
      queue: 'default',
      task: 'a.add',
      state: 'SUCCESS' as const,
      runtimeMs: i,
    }));
    const documents = metricDocuments(many, 0);
    expect(documents).toHaveLength(2);
    expect(documents[0]?.[WorkerMetrics.runtime]).toHaveLength(100);
    expect(documents[0]?.[WorkerMetrics.succeeded]).toBe(150);
    expect(documents[1]?.[WorkerMetrics.runtime]).toHaveLength(50);
    expect(documents[1]?.[WorkerMetrics.succeeded]).toBeUndefined();
  });

  it('goes to stdout as JSON lines in Lambda, and nowhere elsewhere', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const [document] = metricDocuments([{ queue: 'q', task: 't', state: 'SUCCESS' }], 1);
    defaultMetricsSink({})(document as never);
    expect(write).not.toHaveBeenCalled();
    defaultMetricsSink({ AWS_LAMBDA_FUNCTION_NAME: 'worker' })(document as never);
    expect(write).toHaveBeenCalledWith(`${JSON.stringify(document)}\n`);
  });
});
