import { RemovalPolicy } from 'aws-cdk-lib';
import { AttributeType, BillingMode, ProjectionType, Table, TableEncryption } from 'aws-cdk-lib/aws-dynamodb';
import { Grant, type IGrantable } from 'aws-cdk-lib/aws-iam';
import { Construct } from 'constructs';
import { projectedAttributes, RESULT_INDEXES, type ResultIndex } from '../../shared/results/indexes.ts';

export interface ResultsProps {
  /** Task results are history users ask about; losing them with a stack is not undone. @default RETAIN */
  readonly resultsRemovalPolicy?: RemovalPolicy;
  /** Rate-limit counters live for one window and can always be rebuilt. @default DESTROY */
  readonly rateLimitRemovalPolicy?: RemovalPolicy;
}

/** The TTL attribute of both tables: epoch seconds, written by the result store and rate limiter. */
export const EXPIRES_AT_ATTRIBUTE = 'expiresAt';

/** django-celery-results' table, and the counters behind Celery's `rate_limit`. */
export class Results extends Construct {
  readonly resultsTable: Table;
  readonly rateLimitTable: Table;

  constructor(scope: Construct, id: string, props: ResultsProps = {}) {
    super(scope, id);
    this.resultsTable = new Table(this, 'ResultsTable', {
      partitionKey: { name: 'taskId', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: EXPIRES_AT_ATTRIBUTE,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      encryption: TableEncryption.AWS_MANAGED,
      removalPolicy: props.resultsRemovalPolicy ?? RemovalPolicy.RETAIN,
    });
    // Listings (CLI `tasks`, `inspect active`, the admin API) query these, never scan the table.
    for (const index of Object.keys(RESULT_INDEXES) as ResultIndex[]) {
      const { name, partitionKey, sortKey } = RESULT_INDEXES[index];
      this.resultsTable.addGlobalSecondaryIndex({
        indexName: name,
        partitionKey: { name: partitionKey, type: AttributeType.STRING },
        sortKey: { name: sortKey, type: AttributeType.STRING },
        projectionType: ProjectionType.INCLUDE,
        nonKeyAttributes: projectedAttributes(index),
      });
    }
    this.rateLimitTable = new Table(this, 'RateLimitTable', {
      partitionKey: { name: 'key', type: AttributeType.STRING },
      billingMode: BillingMode.PAY_PER_REQUEST,
      timeToLiveAttribute: EXPIRES_AT_ATTRIBUTE,
      removalPolicy: props.rateLimitRemovalPolicy ?? RemovalPolicy.DESTROY,
    });
  }

  /**
   * What a worker's code calls, and no more: claims and outcomes are conditional puts inside
   * `TransactWriteItems` (which IAM checks as `PutItem` per item), and a rate-limit window is one
   * conditional `UpdateItem`; the canvas follow-ups read rows by key (`BatchGetItem`). No scans,
   * batch writes or deletes.
   */
  grantWorker(grantee: IGrantable): void {
    // UpdateItem: the stats counters (`shared/results/stats.ts`), added to as outcomes are recorded.
    // BatchGetItem: the follow-ups read rows back (a redelivered finished task's; a chord's record,
    // and its members' results when the last one sends the callback: `shared/canvas/chord-fire.ts`).
    Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:BatchGetItem', 'dynamodb:PutItem', 'dynamodb:UpdateItem'],
      resourceArns: [this.resultsTable.tableArn],
    });
    Grant.addToPrincipal({
      grantee,
      actions: ['dynamodb:UpdateItem'],
      resourceArns: [this.rateLimitTable.tableArn],
    });
  }

  /** What a reader (CLI, admin listing) needs of the results alone. */
  grantReadResults(grantee: IGrantable): void {
    this.resultsTable.grants.readData(grantee);
  }
}
