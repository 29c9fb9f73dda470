import * as z from '../../schema.ts';
import { type AdminRoute, defineRoute } from '../route.ts';

const sessionSchema = z.object({ name: z.string(), role: z.enum(['viewer', 'admin']) });

/** Who the token is: the dashboard hides the write buttons from a viewer rather than let them 403. */
export const sessionRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/api/session',
    role: 'viewer',
    summary: "The token's holder: its name and role (viewer reads; admin reads and writes)",
    response: sessionSchema,
    handle: async ({ actor, role }) => ({ body: { name: actor, role } }),
  }),
];
