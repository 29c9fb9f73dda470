import { ValidationError } from '../shared/errors.ts';
import { INVOCATION_OVERHEAD_SECONDS, resolveTaskOptions } from '../shared/task/options.ts';
import type { RegisteredTask, TaskRegistry } from '../shared/task/registry.ts';
import { routeTask, type TaskRoutes } from '../shared/task/routing.ts';

/** Lambda's ceiling for one invocation. */
export const LAMBDA_MAX_TIMEOUT_SECONDS = 900;

/** What a task gets when it names no `timeLimit`; read from the framework so the two never drift. */
export const DEFAULT_TIME_LIMIT_SECONDS = resolveTaskOptions('celerity.infra.default_probe').timeLimit;

/** Route names become output names and construct ids, so they keep to a plain alphabet. */
const ROUTE_NAME = /^[A-Za-z][A-Za-z0-9_-]{0,62}$/;

/**
 * Groups the registered tasks by the route queue the producer will send them to, with the very
 * routing function the producer uses. A task routed to a queue the stack does not make would be
 * sent into nothing, so that fails the synth rather than losing messages at run time.
 */
export function tasksByRoute(
  registry: TaskRegistry,
  routeQueues: readonly string[],
  taskRoutes: TaskRoutes,
  defaultQueue: string,
): Map<string, RegisteredTask[]> {
  if (routeQueues.length === 0) throw ValidationError.of('routeQueues', 'must name at least one queue');
  const byRoute = new Map<string, RegisteredTask[]>();
  for (const route of routeQueues) {
    if (!ROUTE_NAME.test(route)) {
      throw ValidationError.of(
        'routeQueues',
        `${JSON.stringify(route)} must start with a letter and hold only letters, digits, - and _`,
      );
    }
    if (byRoute.has(route)) throw ValidationError.of('routeQueues', `${route} is listed twice`);
    byRoute.set(route, []);
  }
  if (!byRoute.has(defaultQueue)) {
    throw ValidationError.of('defaultQueue', `${defaultQueue} is not one of ${routeQueues.join(', ')}`);
  }
  for (const [pattern, queue] of Object.entries(taskRoutes)) {
    if (!byRoute.has(queue)) {
      throw ValidationError.of(`taskRoutes.${pattern}`, `routes to ${queue}, which is not a route queue`);
    }
  }
  for (const task of registry.list()) {
    const route = routeTask(task.name, taskRoutes, task.options.queue, defaultQueue);
    const tasks = byRoute.get(route);
    if (!tasks) {
      throw ValidationError.of(
        `task ${task.name} options.queue`,
        `routes to ${route}, which is not a route queue (${routeQueues.join(', ')})`,
      );
    }
    tasks.push(task);
  }
  return byRoute;
}

/**
 * A worker must outlive the longest hard limit of any task it may receive, plus the time the
 * runtime keeps for claiming and recording. `resolveTaskOptions` already refuses limits that
 * cannot fit, so the cap only guards registries built around it.
 */
export function workerTimeoutSeconds(tasks: readonly RegisteredTask[]): number {
  const longest = tasks.reduce((max, task) => Math.max(max, task.options.timeLimit), 0);
  const limit = tasks.length === 0 ? DEFAULT_TIME_LIMIT_SECONDS : longest;
  return Math.min(Math.ceil(limit) + INVOCATION_OVERHEAD_SECONDS, LAMBDA_MAX_TIMEOUT_SECONDS);
}

/** A route's name as a construct id, as its outputs' keys spell it. */
export { routeKey as pascalCase } from '../shared/config/stack-outputs.ts';
