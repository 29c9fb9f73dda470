import { Duration, RemovalPolicy, Stack } from 'aws-cdk-lib';
import { Grant, type IGrantable, Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { ScheduleGroup } from 'aws-cdk-lib/aws-scheduler';
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
    this.role = new Role(this, 'Role', {
      description: 'Assumed by EventBridge Scheduler to deliver delayed Celerity tasks',
      // Only schedules in this account may use the role (AWS's confused-deputy advice).
      assumedBy: new ServicePrincipal('scheduler.amazonaws.com', {
        conditions: { StringEquals: { 'aws:SourceAccount': Stack.of(this).account } },
      }),
    });
    // The scheduler itself sends failed deliveries to the DLQ, under this role.
    this.deadLetterQueue.grants.sendMessages(this.role);
  }

  /** Lets schedules deliver to this queue. */
  addTarget(queue: IQueue): void {
    QueueGrants.fromQueue(queue).sendMessages(this.role);
  }

  /**
   * Lets a producer create one-time schedules in the group, naming the role as their target role.
   * Only `CreateSchedule`: the schedules delete themselves after firing.
   */
  grantCreateSchedules(grantee: IGrantable): void {
    Grant.addToPrincipal({
      grantee,
      actions: ['scheduler:CreateSchedule'],
      resourceArns: [
        Stack.of(this).formatArn({
          service: 'scheduler',
          resource: 'schedule',
          resourceName: `${this.scheduleGroup.scheduleGroupName}/*`,
        }),
      ],
    });
    this.role.grants.passRole(grantee.grantPrincipal);
  }
}
