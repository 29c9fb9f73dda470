import { App, Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { beforeAll, describe, expect, it } from 'vitest';
import { ROUTE_QUEUES, TASK_ROUTES } from '../../functions/tasks/index.ts';
import { CelerityComponent, CelerityMetadata } from '../../infra/constructs/function.ts';
import { CelerityStack, type CelerityStackProps } from '../../infra/stack.ts';
import { synthTemplate } from '../../infra/synth.ts';
import { ValidationError } from '../../shared/errors.ts';
import { defaultRegistry } from '../../shared/task/index.ts';
import { WorkerMetrics } from '../../shared/worker/metric-names.ts';

type Resource = { Type: string; Properties: Record<string, unknown>; Metadata?: Record<string, unknown> };
type Alarm = {
  MetricName?: string;
  Namespace?: string;
  Statistic?: string;
  Dimensions?: { Name: string; Value: unknown }[];
  Metrics?: {
    Id: string;
    Expression?: string;
    MetricStat?: { Metric: Record<string, unknown>; Stat: string };
  }[];
  Threshold: number;
  ComparisonOperator: string;
  TreatMissingData: string;
  AlarmActions: unknown[];
  OKActions: unknown[];
};

const SYNTH_TIMEOUT_MS = 60_000;
const getAtt = (id: string, attribute = 'Arn') => ({ 'Fn::GetAtt': [id, attribute] });
const offline = () =>
  new App({ context: { 'aws:cdk:bundling-stacks': [] }, builtinCloudFormationValidation: false });
const stackWith = (props: Partial<CelerityStackProps> = {}) =>
  Template.fromStack(
    new CelerityStack(offline(), 'Monitored', {
      registry: defaultRegistry,
      routeQueues: ROUTE_QUEUES,
      taskRoutes: TASK_ROUTES,
      ...props,
    }),
  );
const alarmsOf = (template: Template) =>
  Object.values(template.findResources('AWS::CloudWatch::Alarm')).map((r) => r.Properties as Alarm);

describe('the alarms of the Celerity stack', () => {
  let resources: Record<string, Resource>;
  let alarms: Alarm[];
  let topicId: string;
  const one = (type: string, key: string, value: unknown): string => {
    const found = Object.entries(resources).filter(([, r]) => r.Type === type && r.Metadata?.[key] === value);
    expect(found, `${type} with ${key}=${String(value)}`).toHaveLength(1);
    return (found[0] as [string, Resource])[0];
  };
  /** The alarms on one metric of one resource, by the dimension value CloudFormation would resolve. */
  const alarmsOn = (metricName: string, dimension: unknown) =>
    alarms.filter(
      (a) =>
        a.MetricName === metricName && JSON.stringify(a.Dimensions?.[0]?.Value) === JSON.stringify(dimension),
    );

  beforeAll(() => {
    const json = synthTemplate({ bundling: false, validate: false });
    resources = json.Resources as Record<string, Resource>;
    alarms = Object.values(resources)
      .filter((r) => r.Type === 'AWS::CloudWatch::Alarm')
      .map((r) => r.Properties as Alarm);
    const topics = Object.entries(resources).filter(([, r]) => r.Type === 'AWS::SNS::Topic');
    expect(topics).toHaveLength(1);
    topicId = (topics[0] as [string, Resource])[0];
  }, SYNTH_TIMEOUT_MS);

  it('has five per route, one per failure queue and two for Beat, each notifying the one topic', () => {
    expect(alarms).toHaveLength(ROUTE_QUEUES.length * 5 + 2 + 2);
    for (const alarm of alarms) {
      expect(alarm.AlarmActions).toEqual([{ Ref: topicId }]);
      expect(alarm.OKActions).toEqual([{ Ref: topicId }]);
      expect(alarm.ComparisonOperator).toBe('GreaterThanOrEqualToThreshold');
      // An idle queue or worker stops reporting; that is not trouble.
      expect(alarm.TreatMissingData).toBe('notBreaching');
    }
  });

  it('alarms on stuck tasks: the oldest message of each route queue older than 30 minutes', () => {
    for (const route of ROUTE_QUEUES) {
      const queueId = one('AWS::SQS::Queue', CelerityMetadata.route, route);
      const found = alarmsOn('ApproximateAgeOfOldestMessage', getAtt(queueId, 'QueueName'));
      expect(found, route).toHaveLength(1);
      expect(found[0]).toMatchObject({ Namespace: 'AWS/SQS', Statistic: 'Maximum', Threshold: 1800 });
    }
  });

  it('alarms on any message on any of the five dead-letter and failure queues', () => {
    const failureQueues = [
      ...ROUTE_QUEUES.map((route) => one('AWS::SQS::Queue', CelerityMetadata.dlqOf, route)),
      one('AWS::SQS::Queue', CelerityMetadata.schedulerDlq, true),
      one('AWS::SQS::Queue', CelerityMetadata.failureDestinationOf, CelerityComponent.beatSync),
    ];
    expect(failureQueues).toHaveLength(5);
    for (const queueId of failureQueues) {
      const found = alarmsOn('ApproximateNumberOfMessagesVisible', getAtt(queueId, 'QueueName'));
      expect(found, queueId).toHaveLength(1);
      expect(found[0]).toMatchObject({ Namespace: 'AWS/SQS', Statistic: 'Maximum', Threshold: 1 });
    }
    // Nothing alarms on the depth of a route queue itself: a backlog is what its age alarm is for.
    expect(alarms.filter((a) => a.MetricName === 'ApproximateNumberOfMessagesVisible')).toHaveLength(5);
  });

  it("alarms on each route's failure rate, failed over finished from the worker's EMF counts", () => {
    const rates = alarms.filter((a) => a.Metrics?.some((m) => m.Expression));
    expect(rates).toHaveLength(ROUTE_QUEUES.length);
    for (const route of ROUTE_QUEUES) {
      const matching = rates.filter((a) =>
        a.Metrics?.some((m) =>
          JSON.stringify(m.MetricStat?.Metric.Dimensions ?? []).includes(`"Value":"${route}"`),
        ),
      );
      expect(matching, route).toHaveLength(1);
      const alarm = matching[0] as Alarm;
      expect(alarm.Threshold).toBe(0.1);
      const byName = new Map(
        (alarm.Metrics ?? [])
          .filter((m) => m.MetricStat)
          .map((m) => [m.MetricStat?.Metric.MetricName, { id: m.Id, stat: m.MetricStat }]),
      );
      const succeeded = byName.get(WorkerMetrics.succeeded);
      const failed = byName.get(WorkerMetrics.failed);
      for (const metric of [succeeded, failed]) {
        expect(metric?.stat).toMatchObject({
          Stat: 'Sum',
          Metric: {
            Namespace: WorkerMetrics.namespace,
            Dimensions: [{ Name: WorkerMetrics.dimensions.queue, Value: route }],
          },
        });
      }
      const expression = alarm.Metrics?.find((m) => m.Expression)?.Expression as string;
      expect(expression).toContain(
        `FILL(${failed?.id}, 0) / (FILL(${succeeded?.id}, 0) + FILL(${failed?.id}, 0))`,
      );
    }
  });

  it("alarms on Beat's sync errors and on its stream falling behind", () => {
    const syncId = one('AWS::Lambda::Function', CelerityMetadata.component, CelerityComponent.beatSync);
    expect(alarmsOn('Errors', { Ref: syncId })).toHaveLength(1);
    const behind = alarmsOn('IteratorAge', { Ref: syncId });
    expect(behind).toHaveLength(1);
    expect(behind[0]).toMatchObject({
      Namespace: 'AWS/Lambda',
      Statistic: 'Maximum',
      Threshold: 30 * 60_000,
    });
  });

  it('alarms on every error and throttle of each worker', () => {
    for (const route of ROUTE_QUEUES) {
      const fnId = one('AWS::Lambda::Function', CelerityMetadata.route, route);
      for (const metric of ['Errors', 'Throttles']) {
        const found = alarmsOn(metric, { Ref: fnId });
        expect(found, `${route} ${metric}`).toHaveLength(1);
        expect(found[0]).toMatchObject({ Namespace: 'AWS/Lambda', Statistic: 'Sum', Threshold: 1 });
      }
    }
  });

  it('sends them to an encrypted topic that refuses plain HTTP and lets only CloudWatch alarms publish', () => {
    const topic = resources[topicId] as Resource;
    const keyId = (topic.Properties.KmsMasterKeyId as { 'Fn::GetAtt': [string] })['Fn::GetAtt'][0];
    expect(resources[keyId]?.Type).toBe('AWS::KMS::Key');
    expect(resources[keyId]?.Properties.EnableKeyRotation).toBe(true);
    // The AWS-managed SNS key would not do: CloudWatch must be allowed to use the key.
    expect(JSON.stringify(resources[keyId]?.Properties.KeyPolicy)).toContain('cloudwatch.amazonaws.com');
    const policy = Object.values(resources).find((r) => r.Type === 'AWS::SNS::TopicPolicy') as Resource;
    const statements = (policy.Properties.PolicyDocument as { Statement: Record<string, unknown>[] })
      .Statement;
    expect(statements).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ Effect: 'Deny', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        expect.objectContaining({
          Effect: 'Allow',
          Action: 'sns:Publish',
          Principal: { Service: 'cloudwatch.amazonaws.com' },
        }),
      ]),
    );
  });

  it('has no subscription unless an alarm e-mail is given, and names the topic and dashboard in outputs', () => {
    expect(Object.values(resources).filter((r) => r.Type === 'AWS::SNS::Subscription')).toHaveLength(0);
    const template = Template.fromJSON({ Resources: resources });
    template.resourceCountIs('AWS::CloudWatch::Dashboard', 1);
    const outputs = synthTemplate({ bundling: false, validate: false }).Outputs as Record<
      string,
      { Value: unknown }
    >;
    expect(outputs.AlarmTopicArn?.Value).toEqual({ Ref: topicId });
    const dashboardId = Object.keys(template.findResources('AWS::CloudWatch::Dashboard'))[0] as string;
    expect(outputs.DashboardName?.Value).toEqual({ Ref: dashboardId });
  });

  it('draws queues, failure queues, runs by state, failure rate, runtime and wait percentiles, throttles', () => {
    const dashboard = Object.values(resources).find(
      (r) => r.Type === 'AWS::CloudWatch::Dashboard',
    ) as Resource;
    const body = JSON.stringify(dashboard.Properties.DashboardBody);
    for (const needle of [
      'ApproximateNumberOfMessagesVisible',
      'ApproximateAgeOfOldestMessage',
      WorkerMetrics.succeeded,
      WorkerMetrics.failed,
      WorkerMetrics.retried,
      WorkerMetrics.revoked,
      WorkerMetrics.runtime,
      WorkerMetrics.queueWait,
      'p50',
      'p95',
      'Throttles',
      'IteratorAge',
    ]) {
      expect(body, needle).toContain(needle);
    }
    // And the state of every alarm, at the top.
    const alarmIds = Object.keys(resources).filter((id) => resources[id]?.Type === 'AWS::CloudWatch::Alarm');
    for (const id of alarmIds) expect(body).toContain(JSON.stringify(getAtt(id)));
  });
});

describe('alarms configured', () => {
  it('mails the topic when an alarm e-mail is given', () => {
    const template = stackWith({ alarmEmail: 'ops@labcontrol.example' });
    template.resourceCountIs('AWS::SNS::Subscription', 1);
    template.hasResourceProperties('AWS::SNS::Subscription', {
      Protocol: 'email',
      Endpoint: 'ops@labcontrol.example',
    });
  });

  it('refuses an alarm e-mail that is not an address, naming the field', () => {
    try {
      stackWith({ alarmEmail: 'ops at labcontrol' });
      expect.unreachable('a malformed address was accepted');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toBe('alarmEmail');
    }
  });

  it("takes thresholds from the stack's props, and a route's own over them", () => {
    const template = stackWith({
      monitoring: { stuckTaskAge: Duration.minutes(10), failureRateThreshold: 0.25 },
      queueTuning: { heavy: { stuckTaskAge: Duration.hours(2), failureRateThreshold: 0.5 } },
    });
    const ages = alarmsOf(template)
      .filter((a) => a.MetricName === 'ApproximateAgeOfOldestMessage')
      .map((a) => a.Threshold)
      .sort((a, b) => a - b);
    expect(ages).toEqual([600, 600, 7200]);
    const rates = alarmsOf(template)
      .filter((a) => a.Metrics)
      .map((a) => a.Threshold)
      .sort();
    expect(rates).toEqual([0.25, 0.25, 0.5]);
  });
});

describe('alarm settings refused', () => {
  it('names the field of a threshold out of range, a misspelt setting, or a period AWS cannot keep', () => {
    const fieldOf = (monitoring: Record<string, unknown>) => {
      try {
        stackWith({ monitoring } as Partial<CelerityStackProps>);
      } catch (error) {
        expect(error).toBeInstanceOf(ValidationError);
        return (error as ValidationError).field;
      }
      return expect.unreachable(`${JSON.stringify(monitoring)} was accepted`);
    };
    expect(fieldOf({ failureRateThreshold: 10 })).toBe('monitoring.failureRateThreshold');
    expect(fieldOf({ period: Duration.seconds(90) })).toBe('monitoring.period');
    expect(fieldOf({ stuckTaskAge: Duration.seconds(0) })).toBe('monitoring.stuckTaskAge');
    expect(fieldOf({ stuckTaskAgee: Duration.minutes(5) })).toBe('monitoring');
    expect(() => stackWith({ queueTuning: { heavy: { failureRateThreshold: 0 } } })).toThrow(
      /queueTuning\.heavy\.failureRateThreshold/,
    );
  });
});
