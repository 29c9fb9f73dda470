import { registeredTasks } from '../../ops/registered.ts';
import { type AdminRoute, defineRoute } from '../route.ts';
import { registrySchema } from './responses.ts';

/** Celery's `inspect registered`. */
export const registryRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/api/registry',
    role: 'viewer',
    summary: 'Every registered task with its options (queue, retries, limits)',
    response: registrySchema,
    handle: async ({ ctx }) => ({ body: { items: registeredTasks(ctx) } }),
  }),
];
