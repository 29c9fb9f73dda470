import { CfnOutput, Duration, Stack, type StackProps } from 'aws-cdk-lib';
import { Grant } from 'aws-cdk-lib/aws-iam';
import type { Construct } from 'constructs';
import { ConfigEnv } from '../shared/config/env.ts';
import { type RouteOutputKind, routeOutputKey, StackOutput } from '../shared/config/stack-outputs.ts';
import type { WorkerInfo } from '../shared/ops/context.ts';
import { WORKERS_ENV } from '../shared/ops/workers.ts';
import { RESULT_INDEXES } from '../shared/results/indexes.ts';
import type { TaskRegistry } from '../shared/task/registry.ts';
import type { TaskRoutes } from '../shared/task/routing.ts';
import { AdminApi, AdminQueueActions } from './constructs/admin.ts';
import { Beat, PERIODIC_TASKS_INDEX } from './constructs/beat.ts';
import { CeleryResults } from './constructs/celery-results.ts';
import { DelayedDelivery } from './constructs/delays.ts';
import { Monitoring, type MonitoringOptions } from './constructs/monitoring.ts';
import { Results } from './constructs/results.ts';
import { TaskQueue } from './constructs/task-queue.ts';
import { pascalCase, tasksByRoute, workerTimeoutSeconds } from './derive.ts';
import { acknowledgeNagFindings } from './nag-suppressions.ts';
import { type RouteTuning, routeShape } from './route-shape.ts';

/**
 * Per-route settings: memory, batching, concurrency (across and within invocations), receives,
 * log retention and alarm thresholds. What a route does not set is derived from its tasks (see
 * `routeShape`); its timeout always is.
 */
export type TaskQueueTuning = RouteTuning;

export interface CelerityStackProps extends StackProps {
  /** The registry the workers run; every worker timeout derives from it. */
  readonly registry: TaskRegistry;
  /** One queue, DLQ and worker per name. */
  readonly routeQueues: readonly string[];
  /** Celery's `task_routes`, as the producer applies them. */
  readonly taskRoutes: TaskRoutes;
  /** Celery's `task_default_queue`. @default 'default' */
  readonly defaultQueue?: string;
  /** The workers' `LOG_LEVEL`. @default context `logLevel`, else 'info' */
  readonly logLevel?: string;
  /** @default {} — every route takes TaskQueue's defaults */
  readonly queueTuning?: Readonly<Record<string, TaskQueueTuning>>;
  /** Celery's `timezone`: the zone of crontabs that name none. @default 'UTC' */
  readonly timezone?: string;
  /** An address every alarm is mailed to (SNS asks it to confirm). @default context `alarmEmail`, else none */
  readonly alarmEmail?: string;
  /**
   * Also keep each Celery-originated task's outcome in a table laid out as Celery's own DynamoDB
   * result backend, so a Celery app's `AsyncResult` reads it (docs/celery-interop.md). One more
   * write per such task. @default false
   */
  readonly celeryResults?: boolean;
  /** Alarm thresholds for every route (a route's `queueTuning` may override its own). @default MONITORING_DEFAULTS */
  readonly monitoring?: Omit<MonitoringOptions, 'alarmEmail'>;
}

/** Celerity's resources: task queues with their workers, the result tables, delayed delivery, Beat. */
export class CelerityStack extends Stack {
  readonly taskQueues: ReadonlyMap<string, TaskQueue>;
  readonly results: Results;
  /** Only with the `celeryResults` prop. */
  readonly celeryResults: CeleryResults | undefined;
  readonly delays: DelayedDelivery;
  readonly beat: Beat;
  readonly monitoring: Monitoring;
  readonly admin: AdminApi;

  constructor(scope: Construct, id: string, props: CelerityStackProps) {
    super(scope, id, props);
    const defaultQueue = props.defaultQueue ?? 'default';
    const logLevel = props.logLevel ?? (this.node.tryGetContext('logLevel') as string | undefined) ?? 'info';
    const routed = tasksByRoute(props.registry, props.routeQueues, props.taskRoutes, defaultQueue);

    this.results = new Results(this, 'Results');
    this.celeryResults = props.celeryResults ? new CeleryResults(this, 'CeleryResults') : undefined;
    this.delays = new DelayedDelivery(this, 'Delays');

    const taskQueues = new Map<string, TaskQueue>();
    const ids = new Set<string>();
    const tunings = new Map<string, RouteTuning>();
    const shapes = new Map<string, Omit<ReturnType<typeof routeShape>, 'tuning'>>();
    for (const [route, tasks] of routed) {
      const name = pascalCase(route);
      if (ids.has(name)) throw new Error(`route queues ${route} and another both read as ${name}`);
      ids.add(name);
      const { tuning, ...shape } = routeShape(route, tasks, props.queueTuning?.[route]);
      tunings.set(route, tuning);
      shapes.set(route, shape);
      taskQueues.set(
        route,
        new TaskQueue(this, `${name}TaskQueue`, {
          ...shape,
          ...(tuning.maxReceiveCount === undefined ? {} : { maxReceiveCount: tuning.maxReceiveCount }),
          ...(tuning.logRetention === undefined ? {} : { logRetention: tuning.logRetention }),
          route,
          timeout: Duration.seconds(workerTimeoutSeconds(tasks)),
        }),
      );
    }
    this.taskQueues = taskQueues;
    // Flower's Workers columns: the figures each worker and its mapping were built with, for the admin API.
    const workers: Record<string, WorkerInfo> = {};
    for (const [route, taskQueue] of taskQueues) {
      const { batchSize, maxConcurrency, concurrency, memorySize } = shapes.get(route) ?? {};
      workers[route] = {
        functionName: taskQueue.worker.functionName,
        ...{ batchSize, maxConcurrency, concurrency, memorySize },
        timeoutSeconds: taskQueue.worker.timeout?.toSeconds(),
      };
    }

    const queueTargets: Record<string, { url: string; arn: string }> = {};
    for (const [route, taskQueue] of taskQueues) {
      queueTargets[route] = { url: taskQueue.queue.queueUrl, arn: taskQueue.queue.queueArn };
      this.delays.addTarget(taskQueue.queue);
    }
    const environment: Record<string, string> = {
      [ConfigEnv.queues]: Stack.of(this).toJsonString(queueTargets),
      [ConfigEnv.resultsTable]: this.results.resultsTable.tableName,
      [ConfigEnv.rateLimitTable]: this.results.rateLimitTable.tableName,
      ...(this.celeryResults ? { [ConfigEnv.celeryResultsTable]: this.celeryResults.table.tableName } : {}),
      [ConfigEnv.schedulerGroup]: this.delays.scheduleGroup.scheduleGroupName,
      [ConfigEnv.schedulerRoleArn]: this.delays.role.roleArn,
      [ConfigEnv.schedulerDeadLetterArn]: this.delays.deadLetterQueue.queueArn,
      LOG_LEVEL: logLevel,
    };
    // Periodic schedules deliver as delayed tasks do: the same role, sending only to the task queues.
    this.beat = new Beat(this, 'Beat', {
      schedulerRole: this.delays.role,
      timezone: props.timezone ?? 'UTC',
      environment,
    });
    this.delays.trustScheduleGroup(this.beat.scheduleGroup);
    const workerEnvironment = { ...environment, ...this.beat.environment };

    for (const taskQueue of taskQueues.values()) {
      const worker = taskQueue.worker;
      for (const [key, value] of Object.entries(workerEnvironment)) worker.addEnvironment(key, value);
      // Retries and deferrals re-enqueue, to any route queue, possibly the worker's own: the
      // producer sends (SendMessage covers its batches) and reads a queue's size limit.
      Grant.addToPrincipal({
        grantee: worker,
        actions: ['sqs:SendMessage', 'sqs:GetQueueAttributes'],
        resourceArns: [...taskQueues.values()].map((other) => other.queue.queueArn),
      });
      this.results.grantWorker(worker);
      this.celeryResults?.grantWorker(worker);
      this.delays.grantCreateSchedules(worker);
      this.delays.grantRevokeSchedules(worker);
      this.beat.grantRecordRuns(worker);
      this.beat.grantRearm(worker);
    }

    this.admin = this.adminApi({ ...workerEnvironment, [WORKERS_ENV]: Stack.of(this).toJsonString(workers) });

    const alarmEmail = props.alarmEmail ?? (this.node.tryGetContext('alarmEmail') as string | undefined);
    this.monitoring = new Monitoring(this, 'Monitoring', {
      ...props.monitoring,
      ...(alarmEmail ? { alarmEmail } : {}),
      routes: [...taskQueues].map(([route, taskQueue]) => {
        const tuning = tunings.get(route) ?? {};
        return {
          route,
          queue: taskQueue.queue,
          deadLetterQueue: taskQueue.deadLetterQueue,
          worker: taskQueue.worker,
          ...(tuning.stuckTaskAge ? { stuckTaskAge: tuning.stuckTaskAge } : {}),
          ...(tuning.failureRateThreshold ? { failureRateThreshold: tuning.failureRateThreshold } : {}),
        };
      }),
      failureQueues: [
        {
          name: 'SchedulerDlq',
          queue: this.delays.deadLetterQueue,
          meaning: 'EventBridge Scheduler gave up delivering a delayed or periodic task to its queue.',
        },
        {
          name: 'BeatSyncFailures',
          queue: this.beat.failureQueue,
          meaning:
            'Beat sync gave up on a stream batch or a reconcile; the next reconcile repairs the schedules.',
        },
      ],
      beatSync: this.beat.syncFunction,
    });

    this.addOutputs();
    acknowledgeNagFindings(this);
  }

  /** The admin API, granted exactly what its routes manage. */
  private adminApi(environment: Record<string, string>): AdminApi {
    const admin = new AdminApi(this, 'Admin', { environment });
    admin.grantPeriodicTasks(this.beat.table, PERIODIC_TASKS_INDEX.name);
    admin.grantResults(
      this.results.resultsTable,
      Object.values(RESULT_INDEXES).map((index) => index.name),
    );
    const queues = [...this.taskQueues.values()].map((t) => t.queue);
    const deadLetters = [
      ...[...this.taskQueues.values()].map((t) => t.deadLetterQueue),
      this.delays.deadLetterQueue,
      this.beat.failureQueue,
    ];
    const { read, send, purge, deadLetters: dlq } = AdminQueueActions;
    admin.grantQueues([...read, ...send, ...purge], queues);
    admin.grantQueues([...read, ...purge, ...dlq], deadLetters);
    // Apply with a countdown past 15 minutes, and revoke of such a task: as a producer does.
    this.delays.grantCreateSchedules(admin.grantee);
    this.delays.grantRevokeSchedules(admin.grantee);
    return admin;
  }

  /** Plain, export-free names, as `shared/config/stack-outputs.ts` says: the CLI reads them with DescribeStacks. */
  private addOutputs(): void {
    new CfnOutput(this, StackOutput.routes, {
      value: JSON.stringify([...this.taskQueues.keys()]),
      description: 'The route queues, by name (JSON)',
    });
    for (const [route, taskQueue] of this.taskQueues) {
      const output = (kind: RouteOutputKind, value: string, description: string) =>
        new CfnOutput(this, routeOutputKey(kind, route), { value, description });
      output('queueUrl', taskQueue.queue.queueUrl, `URL of the ${route} task queue`);
      output('queueArn', taskQueue.queue.queueArn, `ARN of the ${route} task queue`);
      output('dlqUrl', taskQueue.deadLetterQueue.queueUrl, `URL of the ${route} dead-letter queue`);
      output('dlqArn', taskQueue.deadLetterQueue.queueArn, `ARN of the ${route} dead-letter queue`);
      output('workerFunction', taskQueue.worker.functionName, `Worker Lambda of the ${route} queue`);
      output('workerLogGroup', taskQueue.logGroup.logGroupName, `Log group of the ${route} worker`);
    }
    const output = (name: keyof typeof StackOutput, value: string) =>
      new CfnOutput(this, StackOutput[name], { value });
    output('resultsTable', this.results.resultsTable.tableName);
    output('rateLimitTable', this.results.rateLimitTable.tableName);
    if (this.celeryResults) output('celeryResultsTable', this.celeryResults.table.tableName);
    output('schedulerGroup', this.delays.scheduleGroup.scheduleGroupName);
    output('schedulerRoleArn', this.delays.role.roleArn);
    output('schedulerDlqUrl', this.delays.deadLetterQueue.queueUrl);
    output('schedulerDlqArn', this.delays.deadLetterQueue.queueArn);
    output('periodicTasksTable', this.beat.table.tableName);
    output('periodicScheduleGroup', this.beat.scheduleGroup.scheduleGroupName);
    output('beatSyncFunction', this.beat.syncFunction.functionName);
    output('beatSyncLogGroup', this.beat.logGroup.logGroupName);
    output('beatSyncFailureQueueUrl', this.beat.failureQueue.queueUrl);
    output('adminUrl', this.admin.url.url);
    output('adminTokenSecretArn', this.admin.tokenSecrets.admin.secretArn);
    output('viewerTokenSecretArn', this.admin.tokenSecrets.viewer.secretArn);
  }
}
