import type { App } from 'aws-cdk-lib';
import { ROUTE_QUEUES, TASK_ROUTES } from '../functions/tasks/index.ts';
import { getConfig } from '../shared/config/config.ts';
import { defaultRegistry } from '../shared/task/registry.ts';
import { CelerityStack } from './stack.ts';

/**
 * LabControl's stack: the tasks the worker bundle registers (imported above, for their side
 * effect on the default registry) decide the workers' timeouts.
 */
export function createLabControlStack(app: App, stackName?: string): CelerityStack {
  const name = stackName ?? (app.node.tryGetContext('stackName') as string | undefined) ?? 'Celerity';
  return new CelerityStack(app, 'Celerity', {
    stackName: name,
    description: 'Celerity: Celery rebuilt on SQS, Lambda, DynamoDB and EventBridge Scheduler',
    registry: defaultRegistry,
    routeQueues: ROUTE_QUEUES,
    taskRoutes: TASK_ROUTES,
    // The worker routes with the configuration that functions/tasks applied; so does the stack.
    defaultQueue: getConfig().defaultQueue,
  });
}
