import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ITable } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable, Policy, PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { type CfnFunction, type FunctionUrl, FunctionUrlAuthType } from 'aws-cdk-lib/aws-lambda';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Secret } from 'aws-cdk-lib/aws-secretsmanager';
import type { IQueue } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { AdminTokenEnv } from '../../shared/admin/auth.ts';
import type { Role } from '../../shared/admin/route.ts';
import { CelerityComponent, CelerityMetadata, celerityFunction } from './function.ts';

/** What the admin API may do to a queue, by what its routes need (see `grantQueues`). */
export const AdminQueueActions = {
  /** Depths and the oldest message's age (Flower's Broker). */
  read: ['sqs:GetQueueAttributes', 'sqs:GetQueueUrl'],
  /** Apply, retry, run a periodic task now, bulk replay. */
  send: ['sqs:SendMessage'],
  /** Purge (with a confirmation field). */
  purge: ['sqs:PurgeQueue'],
  /** A DLQ's peek (receive, then give back) and redrive (move, or receive, send, delete). */
  deadLetters: [
    'sqs:ReceiveMessage',
    'sqs:ChangeMessageVisibility',
    'sqs:DeleteMessage',
    'sqs:StartMessageMoveTask',
    'sqs:ListMessageMoveTasks',
  ],
} as const;

export interface AdminApiProps {
  /** Where the resources are (the CELERITY_* environment every function of the stack is given). */
  readonly environment: Record<string, string>;
  /** @default 512 */
  readonly memorySize?: number;
  /** A listing or a bulk replay page; a function URL waits up to 15 minutes, a person not. @default 30 seconds */
  readonly timeout?: Duration;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** The bytes of each generated token (before base64). @default 48 characters, no punctuation */
  readonly tokenLength?: number;
}

/**
 * The admin API: one Lambda (Node 22, arm64) behind a function URL, and a Secrets Manager secret
 * per role holding that role's bearer token, generated at deploy time. The URL has no IAM auth
 * (`NONE`): browsers and curl present the bearer token, which the function checks on every route.
 * The function can do nothing until granted: the stack grants it exactly the tables and queues it
 * manages, with the `grant…` methods here.
 */
export class AdminApi extends Construct {
  readonly function: NodejsFunction;
  readonly url: FunctionUrl;
  readonly logGroup: LogGroup;
  /** Each role's token, as JSON `{"token": "..."}`. */
  readonly tokenSecrets: Readonly<Record<Role, Secret>>;
  /**
   * `cloudwatch:GetMetricData` on `*`, for the queues view's age of the oldest message: the action
   * has no resource type, so nothing narrower matches. A policy of its own, so cdk-nag's
   * acknowledgement of the wildcard covers it alone and a wildcard anywhere else still fails.
   */
  readonly metricsPolicy: Policy;

  constructor(scope: Construct, id: string, props: AdminApiProps) {
    super(scope, id);
    const secret = (role: Role) =>
      new Secret(this, `${role === 'admin' ? 'Admin' : 'Viewer'}Token`, {
        description: `Celerity admin API: the ${role} bearer token`,
        generateSecretString: {
          secretStringTemplate: JSON.stringify({ role }),
          generateStringKey: 'token',
          excludePunctuation: true,
          passwordLength: props.tokenLength ?? 48,
        },
        removalPolicy: RemovalPolicy.DESTROY,
      });
    this.tokenSecrets = { admin: secret('admin'), viewer: secret('viewer') };

    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });
    this.function = celerityFunction(this, 'Function', {
      description: 'Celerity admin API (periodic tasks, tasks, queues, registry)',
      entry: 'functions/admin.ts',
      handler: 'handler',
      // The dashboard's page and scripts, read beside the bundle (shared/admin/static.ts).
      assets: [{ from: 'shared/admin/dashboard', to: 'dashboard' }],
      memorySize: props.memorySize ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      logGroup: this.logGroup,
      environment: {
        ...props.environment,
        [AdminTokenEnv.admin]: this.tokenSecrets.admin.secretArn,
        [AdminTokenEnv.viewer]: this.tokenSecrets.viewer.secretArn,
      },
    });
    (this.function.node.defaultChild as CfnFunction).addMetadata(
      CelerityMetadata.component,
      CelerityComponent.admin,
    );
    for (const role of ['admin', 'viewer'] as const) this.tokenSecrets[role].grantRead(this.function);
    this.metricsPolicy = new Policy(this, 'MetricsPolicy', {
      statements: [new PolicyStatement({ actions: ['cloudwatch:GetMetricData'], resources: ['*'] })],
    });
    if (this.function.role) this.metricsPolicy.attachToRole(this.function.role);
    // No CORS configuration at all: the dashboard is served from this URL (same origin).
    this.url = this.function.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
  }

  /** Periodic tasks: read, list by the index, create, change, delete. */
  grantPeriodicTasks(table: ITable, indexName: string): void {
    this.grant(
      [
        'dynamodb:GetItem',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
        'dynamodb:DeleteItem',
        'dynamodb:Query',
      ],
      [table.tableArn],
    );
    this.grant(['dynamodb:Query'], [`${table.tableArn}/index/${indexName}`]);
  }

  /** Task results: read one, list by the indexes (never a scan), and the writes of apply, revoke and retry. */
  grantResults(table: ITable, indexNames: readonly string[]): void {
    this.grant(
      [
        'dynamodb:GetItem',
        'dynamodb:BatchGetItem',
        'dynamodb:Query',
        'dynamodb:PutItem',
        'dynamodb:UpdateItem',
      ],
      [table.tableArn],
    );
    if (indexNames.length > 0) {
      this.grant(
        ['dynamodb:Query'],
        indexNames.map((name) => `${table.tableArn}/index/${name}`),
      );
    }
  }

  /** The given actions on the given queues (see `AdminQueueActions`). */
  grantQueues(actions: readonly string[], queues: readonly IQueue[]): void {
    if (queues.length > 0)
      this.grant(
        actions,
        queues.map((q) => q.queueArn),
      );
  }

  /** Any other grant the routes need, on this function's role. */
  get grantee(): IGrantable {
    return this.function;
  }

  private grant(actions: readonly string[], resourceArns: string[]): void {
    Grant.addToPrincipal({ grantee: this.function, actions: [...actions], resourceArns });
  }
}
