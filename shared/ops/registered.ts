import { routeTask } from '../task/routing.ts';
import type { OpsContext } from './context.ts';

/** One line of Celery's `inspect registered`, with the options people ask about. */
export interface RegisteredTaskInfo {
  name: string;
  /** The route queue the producer sends it to (routes, then its `queue` option, then the default). */
  queue: string;
  maxRetries: number;
  timeLimit: number;
  softTimeLimit?: number;
  rateLimit?: string;
  ignoreResult: boolean;
  trackStarted: boolean;
}

export function registeredTasks(ctx: Pick<OpsContext, 'config' | 'registry'>): RegisteredTaskInfo[] {
  return ctx.registry.list().map(({ name, options }) => ({
    name,
    queue: routeTask(name, ctx.config.taskRoutes, options.queue, ctx.config.defaultQueue),
    maxRetries: options.maxRetries,
    timeLimit: options.timeLimit,
    ...(options.softTimeLimit !== undefined ? { softTimeLimit: options.softTimeLimit } : {}),
    ...(options.rateLimit ? { rateLimit: options.rateLimit.text } : {}),
    ignoreResult: options.ignoreResult,
    trackStarted: options.trackStarted,
  }));
}
