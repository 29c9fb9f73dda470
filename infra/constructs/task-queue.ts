import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { CfnFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsEventSource } from 'aws-cdk-lib/aws-lambda-event-sources';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { type CfnQueue, Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import { Construct } from 'constructs';
import { ConfigEnv } from '../../shared/config/env.ts';
import { LIGHT_ROUTE } from '../route-shape.ts';
import { CelerityMetadata, celerityFunction } from './function.ts';

export { CelerityMetadata, PROJECT_ROOT } from './function.ts';

export interface TaskQueueProps {
  /** The route queue name (`default`, `heavy`, ...). */
  readonly route: string;
  /** The worker's timeout: derived from the registry by the stack (see `workerTimeoutSeconds`). */
  readonly timeout: Duration;
  /** Entry file relative to the repository root. @default 'functions/worker.ts' */
  readonly entry?: string;
  /** @default 'handler' */
  readonly handler?: string;
  /** Receives before a message moves to the DLQ. @default 5 */
  readonly maxReceiveCount?: number;
  /** @default LIGHT_ROUTE.memorySize (the stack derives it per route: see `routeShape`) */
  readonly memorySize?: number;
  /** Messages per invocation. @default LIGHT_ROUTE.batchSize */
  readonly batchSize?: number;
  /** How long the mapping gathers a batch. @default LIGHT_ROUTE.maxBatchingWindow */
  readonly maxBatchingWindow?: Duration;
  /** Most concurrent invocations the mapping starts (2–1,000). @default LIGHT_ROUTE.maxConcurrency */
  readonly maxConcurrency?: number;
  /** Task bodies one invocation runs at once. @default the batch size */
  readonly concurrency?: number;
  /** @default {} (the stack adds the resource locations after every queue exists) */
  readonly environment?: Record<string, string>;
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
}

/** One route queue: its DLQ, the queue, and the worker Lambda that drains it. */
export class TaskQueue extends Construct {
  readonly route: string;
  readonly queue: Queue;
  readonly deadLetterQueue: Queue;
  readonly worker: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: TaskQueueProps) {
    super(scope, id);
    this.route = props.route;
    const entry = props.entry ?? 'functions/worker.ts';
    const handler = props.handler ?? 'handler';
    const maxReceiveCount = props.maxReceiveCount ?? 5;
    const batchSize = props.batchSize ?? LIGHT_ROUTE.batchSize;
    const maxConcurrency = props.maxConcurrency ?? LIGHT_ROUTE.maxConcurrency;
    if (!Number.isInteger(maxReceiveCount) || maxReceiveCount < 1 || maxReceiveCount > 1000) {
      throw new Error(`TaskQueue ${props.route}: maxReceiveCount must be an integer in 1–1000`);
    }

    this.deadLetterQueue = new Queue(this, 'DeadLetterQueue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    (this.deadLetterQueue.node.defaultChild as CfnQueue).addMetadata(CelerityMetadata.dlqOf, props.route);

    this.queue = new Queue(this, 'Queue', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      // AWS's advice: six function timeouts, so a batch still in flight is not handed out again.
      visibilityTimeout: Duration.seconds(6 * props.timeout.toSeconds()),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount },
    });
    (this.queue.node.defaultChild as CfnQueue).addMetadata(CelerityMetadata.route, props.route);

    // An explicit group so its retention is ours and the CLI can name it from an output.
    this.logGroup = new LogGroup(this, 'Logs', {
      retention: props.logRetention ?? RetentionDays.ONE_MONTH,
      removalPolicy: RemovalPolicy.DESTROY,
    });

    this.worker = celerityFunction(this, 'Worker', {
      description: `Celerity worker for the ${props.route} queue`,
      entry,
      handler,
      memorySize: props.memorySize ?? LIGHT_ROUTE.memorySize,
      timeout: props.timeout,
      logGroup: this.logGroup,
      environment: {
        ...props.environment,
        [ConfigEnv.workerConcurrency]: String(props.concurrency ?? batchSize),
      },
    });
    const cfnFunction = this.worker.node.defaultChild as CfnFunction;
    cfnFunction.addMetadata(CelerityMetadata.route, props.route);

    this.worker.addEventSource(
      new SqsEventSource(this.queue, {
        batchSize,
        maxBatchingWindow: props.maxBatchingWindow ?? LIGHT_ROUTE.maxBatchingWindow,
        reportBatchItemFailures: true,
        maxConcurrency,
      }),
    );
  }
}
