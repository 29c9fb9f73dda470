import { ArnFormat, CfnOutput, Duration, RemovalPolicy, Stack, Token } from 'aws-cdk-lib';
import {
  Alarm,
  ComparisonOperator,
  Dashboard,
  type IMetric,
  MathExpression,
  Metric,
  Stats,
  TreatMissingData,
} from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { PolicyStatement, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { EmailSubscription } from 'aws-cdk-lib/aws-sns-subscriptions';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { fromZodIssues, ValidationError } from '../../shared/errors.ts';
import * as z from '../../shared/schema.ts';
import { WorkerMetrics } from '../../shared/worker/metric-names.ts';
import { pascalCase } from '../derive.ts';
import { durationSchema, failureRateSchema, intSchema } from '../route-shape.ts';
import { dashboardRows } from './monitoring-dashboard.ts';

/** A route queue as monitoring sees it, with the route's own thresholds where it sets them. */
export interface MonitoredRoute {
  readonly route: string;
  readonly queue: IQueue;
  readonly deadLetterQueue: IQueue;
  readonly worker: IFunction;
  /** @default MonitoringOptions.stuckTaskAge */
  readonly stuckTaskAge?: Duration;
  /** @default MonitoringOptions.failureRateThreshold */
  readonly failureRateThreshold?: number;
}

/** A failure queue that is not a route's DLQ: the Scheduler's DLQ, Beat's sync failures. */
export interface FailureQueue {
  /** A PascalCase name for ids and the alarm's name. */
  readonly name: string;
  readonly queue: IQueue;
  /** What a message there means, for the alarm's description. */
  readonly meaning: string;
}

/** The stack's monitoring settings; every default is set in `MONITORING_DEFAULTS`. */
export interface MonitoringOptions {
  /** An address to mail every alarm to (SNS asks it to confirm first). @default none */
  readonly alarmEmail?: string;
  /** Oldest-message age on a route queue past which its tasks count as stuck. @default 30 minutes */
  readonly stuckTaskAge?: Duration;
  /** Share of finished runs that failed (0–1) past which a route alarms. @default 0.1 */
  readonly failureRateThreshold?: number;
  /** Finished runs a period needs before its failure rate counts: two runs, one failed, is no trend. @default 10 */
  readonly failureRateMinimumRuns?: number;
  /** How old a stream record may get before Beat's sync counts as stuck. @default 30 minutes */
  readonly beatIteratorAge?: Duration;
  /** The alarms' and the dashboard's period. @default 5 minutes */
  readonly period?: Duration;
}

export const MONITORING_DEFAULTS = {
  stuckTaskAge: Duration.minutes(30),
  failureRateThreshold: 0.1,
  failureRateMinimumRuns: 10,
  beatIteratorAge: Duration.minutes(30),
  period: Duration.minutes(5),
} as const satisfies Required<Omit<MonitoringOptions, 'alarmEmail'>>;

export interface MonitoringProps extends MonitoringOptions {
  readonly routes: readonly MonitoredRoute[];
  readonly failureQueues: readonly FailureQueue[];
  /** Beat's sync function: its errors and its stream's iterator age. */
  readonly beatSync: IFunction;
}

const EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;

const positive = durationSchema.check(z.refine((d) => d.toSeconds() > 0, 'must be longer than 0 seconds'));
/** The stack's `monitoring` prop; unknown keys are refused, so a misspelt one is not silently ignored. */
const optionsSchema = z.strictObject({
  stuckTaskAge: z.optional(positive),
  failureRateThreshold: z.optional(failureRateSchema),
  failureRateMinimumRuns: z.optional(intSchema(1, 1_000_000)),
  beatIteratorAge: z.optional(positive),
  // CloudWatch alarm periods of a minute or more come in whole minutes.
  period: z.optional(
    positive.check(z.refine((d) => d.toSeconds() % 60 === 0, 'must be a whole number of minutes')),
  ),
});

/**
 * Celerity's alarms, all to one encrypted SNS topic, and one dashboard: stuck tasks, anything on a
 * dead-letter or failure queue, failure rates from the worker's EMF metrics, Beat's sync errors,
 * worker errors and throttles. docs/operations.md says what each alarm means and what to do.
 */
export class Monitoring extends Construct {
  readonly topic: Topic;
  readonly dashboard: Dashboard;
  readonly alarms: Alarm[] = [];
  readonly #settings: Required<Omit<MonitoringOptions, 'alarmEmail'>>;
  readonly #prefix: string;

  constructor(scope: Construct, id: string, props: MonitoringProps) {
    super(scope, id);
    const { routes, failureQueues, beatSync, alarmEmail, ...options } = props;
    const parsed = optionsSchema.safeParse(options);
    if (!parsed.success) throw fromZodIssues('monitoring', parsed.error.issues);
    const given = parsed.data;
    this.#settings = {
      stuckTaskAge: given.stuckTaskAge ?? MONITORING_DEFAULTS.stuckTaskAge,
      failureRateThreshold: given.failureRateThreshold ?? MONITORING_DEFAULTS.failureRateThreshold,
      failureRateMinimumRuns: given.failureRateMinimumRuns ?? MONITORING_DEFAULTS.failureRateMinimumRuns,
      beatIteratorAge: given.beatIteratorAge ?? MONITORING_DEFAULTS.beatIteratorAge,
      period: given.period ?? MONITORING_DEFAULTS.period,
    };
    this.#prefix = Stack.of(this).stackName;

    // CloudWatch cannot publish to a topic under the AWS-managed SNS key: it needs a key whose
    // policy lets it encrypt.
    const key = new Key(this, 'AlarmTopicKey', {
      description: 'Encrypts the Celerity alarm topic; CloudWatch may use it to publish',
      enableKeyRotation: true,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    this.topic = new Topic(this, 'AlarmTopic', {
      displayName: 'Celerity alarms',
      masterKey: key,
      enforceSSL: true,
    });
    // A topic policy replaces SNS's default one, which is what let the account's alarms publish:
    // so they are allowed by name, this account's alarms only.
    const stack = Stack.of(this);
    this.topic.addToResourcePolicy(
      new PolicyStatement({
        principals: [new ServicePrincipal('cloudwatch.amazonaws.com')],
        actions: ['sns:Publish'],
        resources: [this.topic.topicArn],
        conditions: {
          ArnLike: {
            'aws:SourceArn': stack.formatArn({
              service: 'cloudwatch',
              resource: 'alarm',
              resourceName: '*',
              arnFormat: ArnFormat.COLON_RESOURCE_NAME,
            }),
          },
          StringEquals: { 'aws:SourceAccount': stack.account },
        },
      }),
    );
    if (props.alarmEmail !== undefined) {
      if (!Token.isUnresolved(props.alarmEmail) && !EMAIL.test(props.alarmEmail)) {
        throw ValidationError.of(
          'alarmEmail',
          `${JSON.stringify(props.alarmEmail)} is not an e-mail address`,
        );
      }
      this.topic.addSubscription(new EmailSubscription(props.alarmEmail));
    }

    for (const route of props.routes) this.#routeAlarms(route);
    for (const failure of props.failureQueues) {
      this.#alarm(`${failure.name}Messages`, {
        metric: failure.queue.metricApproximateNumberOfMessagesVisible(this.#stat(Stats.MAXIMUM)),
        threshold: 1,
        description: `A message is on ${failure.name}: ${failure.meaning}`,
      });
    }
    this.#beatAlarms(beatSync);

    this.dashboard = new Dashboard(this, 'Dashboard', {
      dashboardName: this.#prefix,
      defaultInterval: Duration.hours(3),
    });
    for (const row of dashboardRows({
      routes,
      failureQueues,
      beatSync,
      alarms: this.alarms,
      period: this.#settings.period,
      failureRate: (route) => this.failureRate(route),
    })) {
      this.dashboard.addWidgets(...row);
    }

    new CfnOutput(Stack.of(this), 'AlarmTopicArn', {
      value: this.topic.topicArn,
      description: 'SNS topic every Celerity alarm notifies',
    });
    new CfnOutput(Stack.of(this), 'DashboardName', {
      value: this.dashboard.dashboardName,
      description: 'CloudWatch dashboard of queues, runs and failures',
    });
  }

  /**
   * Failed runs over finished ones, per route queue, from the worker's EMF counts. A period with
   * fewer than the minimum runs reads 0: a handful of runs is no rate.
   */
  failureRate(route: string): MathExpression {
    const count = (metricName: string) =>
      new Metric({
        namespace: WorkerMetrics.namespace,
        metricName,
        dimensionsMap: { [WorkerMetrics.dimensions.queue]: route },
        ...this.#stat(Stats.SUM),
      });
    // Ids are unique per route: the dashboard graphs every route's rate together.
    const suffix = route.replace(/[^A-Za-z0-9_]/g, '_');
    const [s, f] = [`succeeded_${suffix}`, `failed_${suffix}`];
    const finished = `FILL(${s}, 0) + FILL(${f}, 0)`;
    return new MathExpression({
      expression: `IF(${finished} >= ${this.#settings.failureRateMinimumRuns}, FILL(${f}, 0) / (${finished}), 0)`,
      usingMetrics: { [s]: count(WorkerMetrics.succeeded), [f]: count(WorkerMetrics.failed) },
      label: `${route} failure rate`,
      period: this.#settings.period,
    });
  }

  #routeAlarms(route: MonitoredRoute): void {
    const name = pascalCase(route.route);
    const stuck = route.stuckTaskAge ?? this.#settings.stuckTaskAge;
    this.#alarm(`${name}StuckTasks`, {
      metric: route.queue.metricApproximateAgeOfOldestMessage(this.#stat(Stats.MAXIMUM)),
      threshold: stuck.toSeconds(),
      description:
        `The oldest message on the ${route.route} queue has waited ${stuck.toHumanString()} or more: ` +
        'its worker is not keeping up, failing, or throttled.',
    });
    this.#alarm(`${name}DeadLetters`, {
      metric: route.deadLetterQueue.metricApproximateNumberOfMessagesVisible(this.#stat(Stats.MAXIMUM)),
      threshold: 1,
      description: `A message is on the ${route.route} DLQ: it was received too often without finishing (celerity dlq show).`,
    });
    const rate = route.failureRateThreshold ?? this.#settings.failureRateThreshold;
    this.#alarm(`${name}FailureRate`, {
      metric: this.failureRate(route.route),
      threshold: rate,
      evaluationPeriods: 3,
      datapointsToAlarm: 2,
      description: `${rate * 100}% or more of finished ${route.route} runs failed in two of three periods.`,
    });
    this.#alarm(`${name}WorkerErrors`, {
      metric: route.worker.metricErrors(this.#stat(Stats.SUM)),
      threshold: 1,
      description: `The ${route.route} worker failed an invocation (a crash, a timeout, or a batch it threw): see its log.`,
    });
    this.#alarm(`${name}WorkerThrottles`, {
      metric: route.worker.metricThrottles(this.#stat(Stats.SUM)),
      threshold: 1,
      description: `The ${route.route} worker was throttled: the account or function concurrency is exhausted.`,
    });
  }

  #beatAlarms(sync: IFunction): void {
    this.#alarm('BeatSyncErrors', {
      metric: sync.metricErrors(this.#stat(Stats.SUM)),
      threshold: 1,
      description:
        'Beat sync failed an invocation: a periodic task may not match its schedule until it retries.',
    });
    const age = this.#settings.beatIteratorAge;
    this.#alarm('BeatSyncIteratorAge', {
      metric: sync.metric('IteratorAge', this.#stat(Stats.MAXIMUM)),
      threshold: age.toMilliseconds(),
      description: `Beat sync is ${age.toHumanString()} or more behind the periodic-tasks table's stream.`,
    });
  }

  #stat(statistic: string): { statistic: string; period: Duration } {
    return { statistic, period: this.#settings.period };
  }

  /** One alarm, named after the stack, notifying the topic when it fires and when it clears. */
  #alarm(
    id: string,
    options: {
      metric: IMetric;
      threshold: number;
      description: string;
      evaluationPeriods?: number;
      datapointsToAlarm?: number;
    },
  ): void {
    const alarm = new Alarm(this, id, {
      alarmName: `${this.#prefix}-${id}`,
      alarmDescription: options.description,
      metric: options.metric,
      threshold: options.threshold,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      evaluationPeriods: options.evaluationPeriods ?? 1,
      datapointsToAlarm: options.datapointsToAlarm ?? options.evaluationPeriods ?? 1,
      // No data is no trouble: an idle queue stops reporting, and so does a worker with no runs.
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
    const action = new SnsAction(this.topic);
    alarm.addAlarmAction(action);
    alarm.addOkAction(action);
    this.alarms.push(alarm);
  }
}
