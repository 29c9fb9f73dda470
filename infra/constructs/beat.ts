import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  type CfnTable,
  ProjectionType,
  StreamViewType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable, type IRole, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type CfnFunction, FilterCriteria, StartingPosition } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { DynamoEventSource, SqsDlq } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type CfnScheduleGroup, ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { type CfnQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import {
  AwsCustomResource,
  AwsCustomResourcePolicy,
  type AwsSdkCall,
  PhysicalResourceId,
} from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { RUN_STATS_MARKER, streamFilterPatterns } from '../../shared/beat/sync-plan.ts';
import { timeZoneProblem } from '../../shared/beat/zoned-time.ts';
import { ConfigEnv } from '../../shared/config/env.ts';
import { ValidationError } from '../../shared/errors.ts';
import { grantPassSchedulerRole } from './delays.ts';
import { CelerityComponent, CelerityMetadata, celerityFunction } from './function.ts';

/** The index every listing of periodic tasks queries: the store writes `listKey` on every item. */
export const PERIODIC_TASKS_INDEX = { name: 'byName', partitionKey: 'listKey', sortKey: 'name' } as const;

/**
 * The only attributes a worker may update on a periodic task: the key and the condition's
 * `enabled`, the run statistics (`lastRunAt`, `totalRunCount`), `dateChanged` and the stream
 * marker that `recordRuns` and `disableOneOff` write. `enabled` is needed to disable a one-off
 * task after its run (django-celery-beat's `one_off`); it can only turn a task off, by the
 * condition in `disableOneOff`, which IAM cannot express, so it is the one attribute of a
 * definition a worker can touch.
 */
export const WORKER_PERIODIC_ATTRIBUTES = [
  'name',
  'enabled',
  'lastRunAt',
  'totalRunCount',
  'dateChanged',
  RUN_STATS_MARKER.attribute,
] as const;

/** What the deploy-time invocation sends: the sync function's reconcile request. */
export const RECONCILE_PAYLOAD = { action: 'reconcile' } as const;

export interface BeatProps {
  /**
   * The role schedules deliver with. DelayedDelivery's: already allowed only `sqs:SendMessage` on the
   * task queues and on its DLQ, which is where periodic deliveries that fail land too.
   */
  readonly schedulerRole: IRole;
  /** Celery's `timezone`: the zone of crontabs that name none. @default 'UTC' */
  readonly timezone?: string;
  /** The sync function's environment besides Beat's own (queues, scheduler role and DLQ, log level). */
  readonly environment?: Record<string, string>;
  /** Periodic task definitions are user data, as django-celery-beat's tables are. @default RETAIN */
  readonly removalPolicy?: RemovalPolicy;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/**
 * Celery Beat: the periodic-tasks table, the schedule group holding one schedule per definition,
 * and the sync function that the table's stream drives to keep the two in step.
 */
export class Beat extends Construct {
  readonly table: Table;
  readonly scheduleGroup: ScheduleGroup;
  readonly syncFunction: NodejsFunction;
  readonly logGroup: LogGroup;
  /** Where stream batches the sync function gave up on, and failed async invocations, are recorded. */
  readonly failureQueue: Queue;
  /** What the sync function and every worker read to find Beat's resources. */
  readonly environment: Readonly<Record<string, string>>;
  private readonly schedulerRole: IRole;

  constructor(scope: Construct, id: string, props: BeatProps) {
    super(scope, id);
    this.schedulerRole = props.schedulerRole;
    const timezone = props.timezone ?? 'UTC';
    const problem = timeZoneProblem(timezone);
    if (problem) throw ValidationError.of('timezone', problem);

    this.table = new Table(this, 'PeriodicTasksTable', {
      partitionKey: { name: 'name', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      stream: StreamViewType.NEW_AND_OLD_IMAGES,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
    this.table.addGlobalSecondaryIndex({
      indexName: PERIODIC_TASKS_INDEX.name,
      partitionKey: { name: PERIODIC_TASKS_INDEX.partitionKey, type: AttributeType.STRING },
      sortKey: { name: PERIODIC_TASKS_INDEX.sortKey, type: AttributeType.STRING },
      projectionType: ProjectionType.ALL,
    });
    mark(this.table, CelerityComponent.periodicTasks);

    // Its own group, apart from delayed tasks': reconcile deletes whatever in it has no row.
    // Deleting a group deletes its schedules, which target this stack's queues: they go with it,
    // and a reconcile rebuilds them from a retained table.
    this.scheduleGroup = new ScheduleGroup(this, 'ScheduleGroup', { removalPolicy: RemovalPolicy.DESTROY });
    mark(this.scheduleGroup, CelerityComponent.periodicSchedules);

    this.environment = {
      [ConfigEnv.periodicTasksTable]: this.table.tableName,
      [ConfigEnv.periodicScheduleGroup]: this.scheduleGroup.scheduleGroupName,
      [ConfigEnv.timezone]: timezone,
    };

    this.failureQueue = new Queue(this, 'SyncFailureQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    (this.failureQueue.node.defaultChild as CfnQueue).addMetadata(
      CelerityMetadata.failureDestinationOf,
      CelerityComponent.beatSync,
    );

    this.logGroup = new LogGroup(this, 'SyncLogs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    const failureDestination = new SqsDestination(this.failureQueue);
    this.syncFunction = celerityFunction(this, 'SyncFunction', {
      description: 'Celerity Beat: keeps one EventBridge schedule per periodic task',
      entry: 'functions/beat-sync.ts',
      handler: 'handler',
      memorySize: 256,
      // A stream batch is at most 100 definitions, a few Scheduler calls each; a reconcile reads
      // every row and gets every schedule, one call apiece under the Scheduler's request quotas, so
      // a few thousand periodic tasks need minutes, not the seconds a batch takes.
      timeout: Duration.minutes(5),
      logGroup: this.logGroup,
      environment: { ...props.environment, ...this.environment },
      // The deploy-time reconcile invokes the current version asynchronously; a failure after
      // Lambda's own retries is recorded beside the stream's.
      currentVersionOptions: { onFailure: failureDestination, removalPolicy: RemovalPolicy.DESTROY },
    });
    mark(this.syncFunction, CelerityComponent.beatSync);

    this.syncFunction.addEventSource(
      new DynamoEventSource(this.table, {
        startingPosition: StartingPosition.TRIM_HORIZON,
        batchSize: 100,
        reportBatchItemFailures: true,
        // A batch that throws is halved until the record at fault is alone, so one bad record
        // does not hold back the good ones beside it.
        bisectBatchOnError: true,
        // A shard waits while its records are retried. Five attempts ride out throttling and a
        // deploy's brief permission gaps; after that the record goes to the failure queue (shard
        // and sequence numbers only, not the images) and the next reconcile repairs the schedule
        // from the table as it is then.
        retryAttempts: 5,
        // The stream keeps records 24 hours and trims older ones without telling anyone. Giving up
        // well before that puts a record that could not be processed in the failure queue instead.
        maxRecordAge: Duration.hours(12),
        onFailure: new SqsDlq(this.failureQueue),
        // Drops the run-statistics updates workers write on every run (see `streamFilterPatterns`).
        filters: streamFilterPatterns().Filters.map(({ Pattern }) =>
          FilterCriteria.filter(JSON.parse(Pattern)),
        ),
      }),
    );
    this.grantSync(this.syncFunction);
    this.reconcileOnDeploy();
  }

  /**
   * What a worker needs after a periodic run: read a definition (the withdrawn check before a run,
   * and a solar schedule's re-arm), record its run statistics and disable a one-off task. The
   * update is limited to the attributes `PeriodicTaskStore.recordRuns` and `disableOneOff` name
   * (see `WORKER_PERIODIC_ATTRIBUTES`), so a compromised task cannot rewrite a schedule that the
   * stream would then apply.
   */
  grantRecordRuns(grantee: IGrantable): void {
    Grant.addToPrincipal({ grantee, actions: ['dynamodb:GetItem'], resourceArns: [this.table.tableArn] });
    grantee.grantPrincipal.addToPrincipalPolicy(
      new PolicyStatement({
        actions: ['dynamodb:UpdateItem'],
        resources: [this.table.tableArn],
        conditions: {
          'ForAllValues:StringEquals': { 'dynamodb:Attributes': [...WORKER_PERIODIC_ATTRIBUTES] },
          // AWS's advice with dynamodb:Attributes: no response may carry attributes outside the list.
          StringEqualsIfExists: {
            'dynamodb:ReturnValues': ['NONE', 'UPDATED_OLD', 'UPDATED_NEW'],
            'dynamodb:Select': 'SPECIFIC_ATTRIBUTES',
          },
        },
      }),
    );
  }

  /** Lets a worker move a solar schedule's `at()` to the next event, naming the scheduler role. */
  grantRearm(grantee: IGrantable): void {
    Grant.addToPrincipal({
      grantee,
      actions: ['scheduler:UpdateSchedule'],
      resourceArns: [this.schedulesArn()],
    });
    grantPassSchedulerRole(this.schedulerRole, grantee);
  }

  /** What the sync function needs: read every definition (a reconcile scans), and manage the group's schedules. */
  private grantSync(grantee: IGrantable): void {
    // Stream records come through the event source mapping, which grants its own reads.
    Grant.addToPrincipal({ grantee, actions: ['dynamodb:Scan'], resourceArns: [this.table.tableArn] });
    Grant.addToPrincipal({
      grantee,
      actions: [
        'scheduler:CreateSchedule',
        'scheduler:UpdateSchedule',
        'scheduler:DeleteSchedule',
        'scheduler:GetSchedule',
      ],
      resourceArns: [this.schedulesArn()],
    });
    // The Service Authorization Reference lists no resource type for ListSchedules, so a policy
    // scoped to the group never matches; the call's GroupName is what keeps the listing ours.
    Grant.addToPrincipal({ grantee, actions: ['scheduler:ListSchedules'], resourceArns: ['*'] });
    grantPassSchedulerRole(this.schedulerRole, grantee);
  }

  /** Every schedule in the periodic group. */
  private schedulesArn(): string {
    return Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.scheduleGroup.scheduleGroupName}/*`,
    });
  }

  /**
   * Runs a reconcile whenever the sync function's code or configuration changes (a new version):
   * a new translation must reach the schedules already written, and drift is repaired. The
   * `triggers` module's Trigger cannot send a payload, so this is an SDK call with the request.
   */
  private reconcileOnDeploy(): void {
    const version = this.syncFunction.currentVersion;
    const invoke = (ignoreErrorCodesMatching?: string): AwsSdkCall => ({
      service: 'Lambda',
      action: 'invoke',
      parameters: {
        FunctionName: version.functionArn,
        // Asynchronous: a reconcile of many schedules may outlast what a deploy should wait for,
        // and its failures are the function's to retry and record, not CloudFormation's to roll back.
        InvocationType: 'Event',
        Payload: JSON.stringify(RECONCILE_PAYLOAD),
      },
      physicalResourceId: PhysicalResourceId.of('beat-reconcile'),
      outputPaths: ['StatusCode'],
      ...(ignoreErrorCodesMatching ? { ignoreErrorCodesMatching } : {}),
    });
    const reconcile = new AwsCustomResource(this, 'ReconcileOnDeploy', {
      // On create the table and the group are new and empty: there is nothing to repair, and IAM
      // may not yet honour the provider's new policy (aws/aws-cdk#37675). That must not fail a
      // first deploy. On update the policy is long in place, and a failure is worth stopping for.
      onCreate: invoke('^AccessDenied'),
      onUpdate: invoke(),
      policy: AwsCustomResourcePolicy.fromStatements([
        new PolicyStatement({
          actions: ['lambda:InvokeFunction'],
          resources: [version.functionArn],
        }),
      ]),
      installLatestAwsSdk: false,
    });
    reconcile.node.addDependency(this.table, this.scheduleGroup, this.syncFunction);
  }
}

/** Marks a resource as the one of its kind that the local runner and tests look for. */
function mark(construct: Table | ScheduleGroup | NodejsFunction, component: string): void {
  (construct.node.defaultChild as CfnTable | CfnScheduleGroup | CfnFunction).addMetadata(
    CelerityMetadata.component,
    component,
  );
}
