// Importing this module registers every LabControl task and applies the app's configuration.
import './celery.ts';

export { ROUTE_QUEUES, TASK_ROUTES } from './celery.ts';
export * as demo from './demo.ts';
