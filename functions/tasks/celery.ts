import { configure } from '../../shared/config/index.ts';

/**
 * LabControl's `config/celery.py`: the route queues and `task_routes`. The CDK stack makes one
 * queue, DLQ and worker per name in `ROUTE_QUEUES`; the resource locations come from the
 * environment the stack sets.
 */
export const ROUTE_QUEUES = ['default', 'heavy', 'notifications'] as const;

export const TASK_ROUTES = {
  'apps.studies.tasks.process_large_file': 'heavy',
  'apps.notifications.tasks.*': 'notifications',
} as const;

configure({ taskRoutes: TASK_ROUTES, defaultQueue: 'default' });
