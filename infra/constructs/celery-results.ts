import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { CELERY_ITEM } from '../../shared/celery/result-backend.ts';

export interface CeleryResultsProps {
  /** What Celery clients read is history like the results table's. @default RETAIN */
  readonly removalPolicy?: RemovalPolicy;
}

/**
 * A table in the layout of Celery's own DynamoDB result backend (`dynamodb://`): the worker
 * mirrors each Celery-originated task's outcome into it, for a Python app's `AsyncResult`.
 * Keyed `id` (S) only (Celery's reader breaks on a sort key), TTL on Celery's `ttl`.
 */
export class CeleryResults extends Construct {
  readonly table: Table;

  constructor(scope: Construct, id: string, props: CeleryResultsProps = {}) {
    super(scope, id);
    this.table = new Table(this, 'Table', {
      partitionKey: { name: CELERY_ITEM.key, type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: CELERY_ITEM.ttl,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: props.removalPolicy ?? RemovalPolicy.RETAIN,
    });
  }

  /** The worker writes whole items, outcomes plainly and progress conditionally: PutItem alone. */
  grantWorker(grantee: IGrantable): void {
    Grant.addToPrincipal({ grantee, actions: ['dynamodb:PutItem'], resourceArns: [this.table.tableArn] });
  }

  /**
   * What a Celery app needs to read it (for a role the app defines in CDK). Celery's backend calls
   * CreateTable when it first connects and takes `ResourceInUseException` as "it exists", then
   * DescribeTable; without CreateTable that first call is refused and the backend fails. On this
   * one table's ARN the grant creates nothing: the table is always there.
   */
  grantCeleryReader(grantee: IGrantable): void {
    Grant.addToPrincipal({
      grantee,
      actions: [
        'dynamodb:GetItem',
        'dynamodb:CreateTable',
        'dynamodb:DescribeTable',
        'dynamodb:DescribeTimeToLive',
      ],
      resourceArns: [this.table.tableArn],
    });
  }
}
