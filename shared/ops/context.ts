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
