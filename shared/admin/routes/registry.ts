import { registeredTasks } from '../../ops/registered.ts';
import { type AdminRoute, defineRoute } from '../route.ts';

/** Celery's `inspect registered`. */
export const registryRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/api/registry',
    role: 'viewer',
    summary: 'Every registered task with its options (queue, retries, limits)',
    handle: async ({ ctx }) => ({ body: { items: registeredTasks(ctx) } }),
  }),
];
