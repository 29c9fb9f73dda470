// Importing this module registers every LabControl task and applies the app's configuration.
import './celery.ts';

export * as appointments from './appointments.ts';
export { ROUTE_QUEUES, TASK_ROUTES } from './celery.ts';
export * as demo from './demo.ts';
export * as notifications from './notifications.ts';
export {
  DEFAULT_SES_SENDER,
  LabControlEnv,
  type LabControlSettings,
  labControlSettings,
} from './settings.ts';
export * as studies from './studies.ts';
