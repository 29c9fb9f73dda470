import type { Duration } from 'aws-cdk-lib';
import {
  type Alarm,
  AlarmStatusWidget,
  GraphWidget,
  type IMetric,
  type IWidget,
  Metric,
  Stats,
  TextWidget,
} from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { WorkerMetrics } from '../../shared/worker/metric-names.ts';
import type { FailureQueue, MonitoredRoute } from './monitoring.ts';

export interface DashboardInput {
  readonly routes: readonly MonitoredRoute[];
  readonly failureQueues: readonly FailureQueue[];
  readonly beatSync: IFunction;
  readonly alarms: readonly Alarm[];
  readonly period: Duration;
  readonly failureRate: (route: string) => IMetric;
}

const HALF = 12;
const THIRD = 8;

/**
 * The dashboard, row by row, in the order an operator asks: is anything alarming; are the queues
 * keeping up; did anything land on a failure queue; how are runs ending; how long do they take
 * and wait; are the functions healthy.
 */
export function dashboardRows(input: DashboardInput): IWidget[][] {
  const { routes, period } = input;
  const graph = (title: string, left: IMetric[], options: { width?: number; stacked?: boolean } = {}) =>
    new GraphWidget({
      title,
      left,
      width: options.width ?? HALF,
      height: 6,
      stacked: options.stacked ?? false,
    });
  const worker = (route: string, metricName: string, statistic: string, label: string) =>
    new Metric({
      namespace: WorkerMetrics.namespace,
      metricName,
      dimensionsMap: { [WorkerMetrics.dimensions.queue]: route },
      statistic,
      period,
      label,
    });
  const byRoute = (make: (route: MonitoredRoute) => IMetric[]) => routes.flatMap(make);

  return [
    [
      new TextWidget({
        markdown:
          '## Celerity\nQueues, runs and failures of every route. What each alarm means and what to do: `docs/operations.md`.',
        width: 24,
        height: 2,
      }),
    ],
    [new AlarmStatusWidget({ title: 'Alarms', alarms: [...input.alarms], width: 24, height: 4 })],
    [
      graph(
        'Queue depth (visible / in flight)',
        byRoute(({ route, queue }) => [
          queue.metricApproximateNumberOfMessagesVisible({ period, label: `${route} visible` }),
          queue.metricApproximateNumberOfMessagesNotVisible({ period, label: `${route} in flight` }),
        ]),
      ),
      graph(
        'Oldest message age (s)',
        byRoute(({ route, queue }) => [
          queue.metricApproximateAgeOfOldestMessage({ period, statistic: Stats.MAXIMUM, label: route }),
        ]),
      ),
    ],
    [
      graph('Dead-letter and failure queues (messages)', [
        ...byRoute(({ route, deadLetterQueue }) => [
          deadLetterQueue.metricApproximateNumberOfMessagesVisible({
            period,
            statistic: Stats.MAXIMUM,
            label: `${route} DLQ`,
          }),
        ]),
        ...input.failureQueues.map(({ name, queue }) =>
          queue.metricApproximateNumberOfMessagesVisible({ period, statistic: Stats.MAXIMUM, label: name }),
        ),
      ]),
      graph(
        'Failure rate (failed / finished)',
        routes.map(({ route }) => input.failureRate(route)),
      ),
    ],
    routes.map(({ route }) =>
      graph(
        `Runs by state: ${route}`,
        [
          worker(route, WorkerMetrics.succeeded, Stats.SUM, 'SUCCESS'),
          worker(route, WorkerMetrics.failed, Stats.SUM, 'FAILURE'),
          worker(route, WorkerMetrics.retried, Stats.SUM, 'RETRY'),
          worker(route, WorkerMetrics.revoked, Stats.SUM, 'REVOKED'),
        ],
        { width: Math.max(THIRD, Math.floor(24 / routes.length)), stacked: true },
      ),
    ),
    [
      graph(
        'Task runtime p50 / p95 (ms)',
        byRoute(({ route }) => [
          worker(route, WorkerMetrics.runtime, Stats.p(50), `${route} p50`),
          worker(route, WorkerMetrics.runtime, Stats.p(95), `${route} p95`),
        ]),
      ),
      graph(
        'Queue wait p50 / p95 (ms)',
        byRoute(({ route }) => [
          worker(route, WorkerMetrics.queueWait, Stats.p(50), `${route} p50`),
          worker(route, WorkerMetrics.queueWait, Stats.p(95), `${route} p95`),
        ]),
      ),
    ],
    [
      graph(
        'Worker errors and throttles',
        byRoute(({ route, worker: fn }) => [
          fn.metricErrors({ period, label: `${route} errors` }),
          fn.metricThrottles({ period, label: `${route} throttles` }),
        ]),
      ),
      graph(
        'Worker invocations and concurrency',
        byRoute(({ route, worker: fn }) => [
          fn.metricInvocations({ period, label: `${route} invocations` }),
          fn.metric('ConcurrentExecutions', {
            period,
            statistic: Stats.MAXIMUM,
            label: `${route} concurrent`,
          }),
        ]),
      ),
    ],
    [
      graph('Beat sync errors', [
        input.beatSync.metricErrors({ period, label: 'errors' }),
        input.beatSync.metricInvocations({ period, label: 'invocations' }),
      ]),
      graph('Beat sync iterator age (ms)', [
        input.beatSync.metric('IteratorAge', { period, statistic: Stats.MAXIMUM, label: 'iterator age' }),
      ]),
    ],
  ];
}
