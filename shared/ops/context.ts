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
  /** @defaultValue the wall clock */
  clock?: () => Date;
}

export function nowOf(ctx: OpsContext): Date {
  return ctx.clock?.() ?? new Date();
}
