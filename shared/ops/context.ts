import type { AwsClients } from '../aws/clients.ts';
import type { CelerityConfig } from '../config/config.ts';
import type { TaskRegistry } from '../task/registry.ts';

/**
 * What every operation is given, whichever door it is called through (the CLI, the admin API):
 * where the resources are, the clients to reach them, and the app's tasks.
 */
export interface OpsContext {
  config: CelerityConfig;
  clients: Pick<AwsClients, 'sqs' | 'dynamo' | 'scheduler'>;
  registry: TaskRegistry;
  /**
   * The failure queues that are no route's DLQ, as the stack's outputs (or the local cloud's state)
   * name them. The Scheduler's DLQ defaults to `config.scheduler.deadLetterArn`; the beat-sync
   * failure queue is known only from here.
   */
  failureQueues?: { scheduler?: QueueRef; beatSync?: QueueRef };
  /**
   * Each route's worker as the stack built it (function, batch size, maximum concurrency, timeout):
   * the door that knows the stack passes it (the admin function from its environment, the local
   * cloud from the synthesized template). Without it, Flower's Workers columns are left out.
   */
  workers?: Record<string, WorkerInfo>;
  /**
   * The age of a queue's oldest message in seconds: CloudWatch's `ApproximateAgeOfOldestMessage`
   * where deployed. SQS itself has no such attribute and a peek would count as a receive (and move
   * messages toward their DLQ), so without this the age is unknown (null).
   */
  oldestAgeSeconds?: (queue: string, url: string) => Promise<number | null>;
  /** @defaultValue the wall clock */
  clock?: () => Date;
}

/** A queue by URL, with its ARN when known. */
export interface QueueRef {
  url: string;
  arn?: string;
}

export function nowOf(ctx: OpsContext): Date {
  return ctx.clock?.() ?? new Date();
}

/** A route's worker: what Flower's Workers page shows of a pool. */
export interface WorkerInfo {
  functionName?: string;
  batchSize?: number;
  maxConcurrency?: number;
  /** Task bodies one invocation runs at once. */
  concurrency?: number;
  timeoutSeconds?: number;
  memorySize?: number;
}
