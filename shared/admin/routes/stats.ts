import { taskStats } from '../../ops/stats.ts';
import * as z from '../../schema.ts';
import { type AdminRoute, defineRoute } from '../route.ts';

const statsQuery = z.strictObject({
  /** Comma-separated task names; the registry's when not given. */
  name: z.optional(
    z.pipe(
      z
        .string()
        .check(
          z.regex(/^[A-Za-z0-9_.:-]+(,[A-Za-z0-9_.:-]+)*$/, { error: 'must be task names, comma-separated' }),
          z.maxLength(10_000),
        ),
      z.transform((v: string) => v.split(',')),
    ),
  ),
});

/** Flower's Monitor. */
export const statsRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: '/api/stats',
    role: 'viewer',
    summary:
      'Per task name and overall: counts by state, failure rate and runtime p50/p95 over the last hour and day',
    query: statsQuery,
    handle: async ({ ctx, query }) => ({
      body: await taskStats(ctx, query.name ? { names: query.name } : {}),
    }),
  }),
];
