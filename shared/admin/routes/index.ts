import type { AdminRoute } from '../route.ts';
import { periodicRoutes } from './periodic.ts';
import { queueRoutes } from './queues.ts';
import { registryRoutes } from './registry.ts';
import { sessionRoutes } from './session.ts';
import { statsRoutes } from './stats.ts';
import { taskRoutes } from './tasks.ts';

/** Every route of the admin API: the router, the auth tests and the fuzz tests are built from this list. */
export const adminRoutes: AdminRoute[] = [
  ...periodicRoutes,
  ...registryRoutes,
  ...taskRoutes,
  ...queueRoutes,
  ...statsRoutes,
  ...sessionRoutes,
];
