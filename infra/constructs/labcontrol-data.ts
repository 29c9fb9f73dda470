import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  ProjectionType,
  Table,
  TableEncryption,
  type TableProps,
} from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { EmailIdentity, Identity } from 'aws-cdk-lib/aws-ses';
import { Construct } from 'constructs';
import {
  AppointmentsTable,
  NotificationsTable,
  StudiesTable,
  UsersTable,
} from '../../functions/tasks/model.ts';
import { DEFAULT_SES_SENDER, LabControlEnv } from '../../functions/tasks/settings.ts';

export interface LabControlDataProps {
  /** The address every LabControl email comes from; the stack makes it an SES identity. @default 'noreply@labcontrol.example' */
  readonly sender?: string;
  /**
   * Users, appointments and studies are the lab's records: a stack deleted by mistake must not
   * take them along. Notifications are disposable. @default RemovalPolicy.RETAIN
   */
  readonly recordsRemovalPolicy?: RemovalPolicy;
  /** @default RemovalPolicy.DESTROY */
  readonly notificationsRemovalPolicy?: RemovalPolicy;
}

const S = AttributeType.STRING;

/**
 * LabControl's own data, apart from Celerity's: its tables (keys and indexes from
 * functions/tasks/model.ts, the one description the tasks also read) and the SES identity its
 * emails are sent from. Key and index choices are explained there.
 */
export class LabControlData extends Construct {
  readonly users: Table;
  readonly appointments: Table;
  readonly notifications: Table;
  readonly studies: Table;
  readonly sender: EmailIdentity;
  readonly senderAddress: string;

  constructor(scope: Construct, id: string, props: LabControlDataProps = {}) {
    super(scope, id);
    const records = props.recordsRemovalPolicy ?? RemovalPolicy.RETAIN;
    const common: Partial<TableProps> = {
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
    };

    this.users = new Table(this, 'Users', {
      ...common,
      partitionKey: { name: UsersTable.partitionKey, type: S },
      removalPolicy: records,
    });

    this.appointments = new Table(this, 'Appointments', {
      ...common,
      partitionKey: { name: AppointmentsTable.partitionKey, type: S },
      removalPolicy: records,
    });
    this.appointments.addGlobalSecondaryIndex({
      indexName: AppointmentsTable.dueRemindersIndex,
      partitionKey: { name: AppointmentsTable.dueRemindersPartitionKey, type: S },
      sortKey: { name: AppointmentsTable.dueRemindersSortKey, type: S },
      // The task claims each appointment on the table and reads it back there.
      projectionType: ProjectionType.KEYS_ONLY,
    });

    this.notifications = new Table(this, 'Notifications', {
      ...common,
      partitionKey: { name: NotificationsTable.partitionKey, type: S },
      removalPolicy: props.notificationsRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
    this.notifications.addGlobalSecondaryIndex({
      indexName: NotificationsTable.byUserIndex,
      partitionKey: { name: 'userId', type: S },
      sortKey: { name: 'createdAt', type: S },
      projectionType: ProjectionType.ALL,
    });
    this.notifications.addGlobalSecondaryIndex({
      indexName: NotificationsTable.readIndex,
      partitionKey: { name: NotificationsTable.readIndexPartitionKey, type: S },
      sortKey: { name: 'createdAt', type: S },
      projectionType: ProjectionType.KEYS_ONLY,
    });
    this.notifications.addGlobalSecondaryIndex({
      indexName: NotificationsTable.broadcastIndex,
      partitionKey: { name: NotificationsTable.broadcastIndexPartitionKey, type: S },
      sortKey: { name: 'userId', type: S },
      projectionType: ProjectionType.KEYS_ONLY,
    });

    this.studies = new Table(this, 'Studies', {
      ...common,
      partitionKey: { name: StudiesTable.partitionKey, type: S },
      removalPolicy: records,
    });

    this.senderAddress = props.sender ?? DEFAULT_SES_SENDER;
    // An address identity: AWS mails it a link to confirm before SES will send from it.
    this.sender = new EmailIdentity(this, 'Sender', { identity: Identity.email(this.senderAddress) });
  }

  /** What LabControl's tasks are told through their environment. */
  get environment(): Record<string, string> {
    return {
      [LabControlEnv.usersTable]: this.users.tableName,
      [LabControlEnv.appointmentsTable]: this.appointments.tableName,
      [LabControlEnv.notificationsTable]: this.notifications.tableName,
      [LabControlEnv.studiesTable]: this.studies.tableName,
      [LabControlEnv.sesSender]: this.senderAddress,
    };
  }

  /**
   * What LabControl's tasks call (functions/tasks/*), and no more: users are read one by one;
   * reminders query the due index and claim appointments with conditional updates; cleanup
   * queries the read index and the bulk tasks batch-write notifications; a large file's progress
   * is read and updated on its study; email goes out from the sender identity only.
   */
  grantTasks(grantee: IGrantable): void {
    const allow = (actions: string[], resourceArns: string[]) =>
      Grant.addToPrincipal({ grantee, actions, resourceArns });
    const index = (table: Table, name: string) => `${table.tableArn}/index/${name}`;
    allow(['dynamodb:GetItem'], [this.users.tableArn]);
    allow(['dynamodb:Query'], [index(this.appointments, AppointmentsTable.dueRemindersIndex)]);
    allow(['dynamodb:UpdateItem'], [this.appointments.tableArn]);
    allow(['dynamodb:Query'], [index(this.notifications, NotificationsTable.readIndex)]);
    allow(['dynamodb:BatchWriteItem'], [this.notifications.tableArn]);
    allow(['dynamodb:GetItem', 'dynamodb:UpdateItem'], [this.studies.tableArn]);
    this.sender.grant(grantee, 'ses:SendEmail');
  }
}
