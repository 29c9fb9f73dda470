import type { AdminRoute } from '../route.ts';
import { periodicRoutes } from './periodic.ts';
import { registryRoutes } from './registry.ts';

/** Every route of the admin API: the router, the auth tests and the fuzz tests are built from this list. */
export const adminRoutes: AdminRoute[] = [...periodicRoutes, ...registryRoutes];
