import { type App, CfnOutput } from 'aws-cdk-lib';
import { ROUTE_QUEUES, TASK_ROUTES } from '../functions/tasks/index.ts';
import { getConfig } from '../shared/config/config.ts';
import { defaultRegistry } from '../shared/task/registry.ts';
import { LabControlData } from './constructs/labcontrol-data.ts';
import { CelerityStack } from './stack.ts';

export interface LabControlStackOptions {
  /** The address LabControl's emails come from. @default context `labcontrolSender`, else 'noreply@labcontrol.example' */
  readonly sender?: string;
}

/**
 * LabControl's stack: the tasks the worker bundle registers (imported above, for their side
 * effect on the default registry) decide the workers' timeouts; the app's own tables and SES
 * identity sit beside Celerity's resources, and every worker is told where they are.
 */
export function createLabControlStack(
  app: App,
  stackName?: string,
  options: LabControlStackOptions = {},
): CelerityStack {
  const name = stackName ?? (app.node.tryGetContext('stackName') as string | undefined) ?? 'Celerity';
  const stack = new CelerityStack(app, 'Celerity', {
    stackName: name,
    description: 'Celerity: Celery rebuilt on SQS, Lambda, DynamoDB and EventBridge Scheduler',
    registry: defaultRegistry,
    routeQueues: ROUTE_QUEUES,
    taskRoutes: TASK_ROUTES,
    // The worker routes with the configuration that functions/tasks applied; so does the stack.
    defaultQueue: getConfig().defaultQueue,
    // LabControl's Django app reads its Celery tasks' results with `result_backend = 'dynamodb://…'`.
    celeryResults: true,
  });

  const sender = options.sender ?? (app.node.tryGetContext('labcontrolSender') as string | undefined);
  const data = new LabControlData(stack, 'LabControlData', sender ? { sender } : {});
  // Any route's worker may run any task (a route is a glob, and `queue` can be overridden per call).
  for (const taskQueue of stack.taskQueues.values()) {
    for (const [key, value] of Object.entries(data.environment)) taskQueue.worker.addEnvironment(key, value);
    data.grantTasks(taskQueue.worker);
  }
  new CfnOutput(stack, 'LabControlUsersTableName', { value: data.users.tableName });
  new CfnOutput(stack, 'LabControlAppointmentsTableName', { value: data.appointments.tableName });
  new CfnOutput(stack, 'LabControlNotificationsTableName', { value: data.notifications.tableName });
  new CfnOutput(stack, 'LabControlStudiesTableName', { value: data.studies.tableName });
  new CfnOutput(stack, 'LabControlSender', { value: data.senderAddress });
  return stack;
}
