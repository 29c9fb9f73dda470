import { Duration, Lazy, RemovalPolicy, Stack } from 'aws-cdk-lib';
import {
  Grant,
  type IGrantable,
  type IRole,
  Policy,
  PolicyStatement,
  Role,
  ServicePrincipal,
} from 'aws-cdk-lib/aws-iam';
import { type IScheduleGroup, ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
import { type CfnQueue, type IQueue, Queue, QueueEncryption, QueueGrants } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { CelerityMetadata } from './task-queue.ts';

export interface DelayedDeliveryProps {
  /** @default a name CloudFormation generates */
  readonly scheduleGroupName?: string;
  /**
   * Pending one-time schedules target this stack's queues, so they go with it.
   * @default RemovalPolicy.DESTROY
   */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * What the producer needs to send a task later than SQS's 15-minute `DelaySeconds`: a schedule
 * group for one-time `at()` schedules, the role the scheduler assumes to put the envelope on a
 * task queue, and a DLQ for deliveries the scheduler gives up on.
 */
export class DelayedDelivery extends Construct {
  readonly scheduleGroup: ScheduleGroup;
  readonly role: Role;
  readonly deadLetterQueue: Queue;
  /** The groups whose schedules may assume the role: this one's, and Beat's once added. */
  readonly #trustedGroups: IScheduleGroup[] = [];
  #listSchedulesPolicy: Policy | undefined;

  constructor(scope: Construct, id: string, props: DelayedDeliveryProps = {}) {
    super(scope, id);
    this.scheduleGroup = new ScheduleGroup(this, 'ScheduleGroup', {
      ...(props.scheduleGroupName ? { scheduleGroupName: props.scheduleGroupName } : {}),
      removalPolicy: props.removalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    (this.deadLetterQueue.node.defaultChild as CfnQueue).addMetadata(CelerityMetadata.schedulerDlq, true);
    this.#trustedGroups.push(this.scheduleGroup);
    this.role = new Role(this, 'Role', {
      description: 'Assumed by EventBridge Scheduler to deliver delayed Celerity tasks',
      // Only schedules of this stack's groups may use the role (AWS's confused-deputy advice):
      // not any schedule of the account, which anyone allowed to create one could point here.
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: {
          StringEquals: {
            'aws:SourceAccount': Stack.of(this).account,
            'aws:SourceArn': Lazy.list({
              produce: () => this.#trustedGroups.map((group) => group.scheduleGroupArn),
            }),
          },
        },
      }),
    });
    // The scheduler itself sends failed deliveries to the DLQ, under this role.
    this.deadLetterQueue.grants.sendMessages(this.role);
  }

  /** Lets the schedules of another group (Beat's) deliver with the role. */
  trustScheduleGroup(group: IScheduleGroup): void {
    this.#trustedGroups.push(group);
  }

  /** Lets schedules deliver to this queue. */
  addTarget(queue: IQueue): void {
    QueueGrants.fromQueue(queue).sendMessages(this.role);
  }

  /**
   * Lets a producer create one-time schedules in the group, naming the role as their target role,
   * and read one back when a name is taken (to tell a repeat from a clash). No update: the
   * schedules delete themselves after firing.
   */
  grantCreateSchedules(grantee: IGrantable): void {
    Grant.addToPrincipal({
      grantee,
      actions: ['scheduler:CreateSchedule', 'scheduler:GetSchedule'],
      resourceArns: [this.schedulesArn()],
    });
    grantPassSchedulerRole(this.role, grantee);
  }

  /**
   * Lets a caller revoke a far-eta task (`AsyncResult.revoke()` inside a task, as Celery allows):
   * find the task's one-time schedules and delete them. ListSchedules has no resource type in the
   * Service Authorization Reference, so it is granted on `*`; the call's GroupName keeps it here.
   */
  grantRevokeSchedules(grantee: IGrantable): void {
    Grant.addToPrincipal({
      grantee,
      actions: ['scheduler:DeleteSchedule', 'scheduler:GetSchedule'],
      resourceArns: [this.schedulesArn()],
    });
    const role = grantee.grantPrincipal instanceof Role ? grantee.grantPrincipal : undefined;
    if (role) this.listSchedulesPolicy.attachToRole(role);
    else Grant.addToPrincipal({ grantee, actions: ['scheduler:ListSchedules'], resourceArns: ['*'] });
  }

  /** Every schedule of the group: names are made at run time, one per task id and attempt. */
  private schedulesArn(): string {
    return Stack.of(this).formatArn({
      service: 'scheduler',
      resource: 'schedule',
      resourceName: `${this.scheduleGroup.scheduleGroupName}/*`,
    });
  }

  /**
   * ListSchedules on `*`, in a policy of its own attached to each role that revokes: cdk-nag's
   * acknowledgement of that wildcard then covers this policy alone, and a new wildcard in a
   * worker's own policy still fails the check.
   */
  get listSchedulesPolicy(): Policy {
    this.#listSchedulesPolicy ??= new Policy(this, 'ListSchedulesPolicy', {
      statements: [new PolicyStatement({ actions: ['scheduler:ListSchedules'], resources: ['*'] })],
    });
    return this.#listSchedulesPolicy;
  }
}

/** Lets a grantee name the scheduler role as a schedule's target role, to the Scheduler only. */
export function grantPassSchedulerRole(role: IRole, grantee: IGrantable): void {
  Grant.addToPrincipal({
    grantee,
    actions: ['iam:PassRole'],
    resourceArns: [role.roleArn],
    conditions: { StringEquals: { 'iam:PassedToService': 'scheduler.amazonaws.com' } },
  });
}
