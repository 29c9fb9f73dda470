import { ValidationError } from '../../errors.ts';
import { replayFailures, retryTask } from '../../ops/replay.ts';
import { applyTask, getTaskResult, listTaskResults, revokeTask } from '../../ops/tasks.ts';
import * as z from '../../schema.ts';
import { type AdminRoute, defineRoute } from '../route.ts';
import { idParams, instant, nameParam, statesParam, timeFieldParam } from './filters.ts';
import { cursorParam, limitParam } from './params.ts';

const BASE = '/api/tasks';

const listQuery = z.strictObject({
  state: statesParam,
  name: nameParam,
  periodicTask: nameParam,
  since: instant,
  until: instant,
  timeField: timeFieldParam,
  limit: limitParam,
  cursor: cursorParam,
});

const MAX_COUNTDOWN_SECONDS = 10 * 365 * 86_400;

const when = z.optional(
  z.union([
    z.iso.datetime({ offset: true, local: true, error: 'must be ISO 8601 time or a number' }),
    z.number().check(z.refine(Number.isFinite, 'must be finite')),
  ]),
);

/** Flower's async-apply: a registered task by name, with Celery's `apply_async` options. */
const applyBody = z.strictObject({
  task: z.string().check(z.minLength(1, { error: 'must not be empty' }), z.maxLength(200)),
  args: z.optional(z.array(z.unknown())),
  kwargs: z.optional(z.record(z.string(), z.unknown())),
  /** Seconds from now, up to ten years. */
  countdown: z.optional(
    z
      .number()
      .check(z.gte(0), z.lte(MAX_COUNTDOWN_SECONDS, { error: 'must be at most ten years (315360000 s)' })),
  ),
  /** ISO time or epoch milliseconds. */
  eta: when,
  /** ISO time, or seconds from now. */
  expires: when,
  queue: nameParam,
});

const replayBody = z.strictObject({
  name: nameParam,
  periodicTask: nameParam,
  since: instant,
  until: instant,
  /** @defaultValue dateCreated */
  timeField: timeFieldParam,
  /** `true` to count what would be sent; give this or `confirm`. */
  dryRun: z.optional(z.literal(true)),
  /** The `confirm` token the dry run returned: re-send what it counted. */
  confirm: z.optional(z.string().check(z.minLength(1, { error: 'must not be empty' }), z.maxLength(100))),
});

/** Flower's Tasks page and its actions, over the operations the CLI calls. */
export const taskRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: BASE,
    role: 'viewer',
    summary:
      'Task results newest first, filtered by state, name, periodic task and time range, a page at a time',
    query: listQuery,
    handle: async ({ ctx, query }) => ({
      body: await listTaskResults(ctx, {
        limit: query.limit,
        ...(query.cursor ? { cursor: query.cursor } : {}),
        ...(query.state ? { states: query.state } : {}),
        ...(query.name ? { taskName: query.name } : {}),
        ...(query.periodicTask ? { periodicTask: query.periodicTask } : {}),
        ...(query.since ? { since: query.since } : {}),
        ...(query.until ? { until: query.until } : {}),
        ...(query.timeField ? { timeField: query.timeField } : {}),
      }),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: BASE,
    role: 'admin',
    summary: 'Apply a registered task by name (args, kwargs, countdown, eta, expires, queue)',
    body: applyBody,
    handle: async ({ ctx, body, actor }) => ({
      status: 202,
      body: await applyTask(ctx, body, `admin:${actor}`).catch((error: unknown) => {
        throw asBodyError(error);
      }),
    }),
  }),
  defineRoute({
    method: 'POST',
    path: `${BASE}/replay`,
    role: 'admin',
    summary: 'Re-send the FAILUREs matching a filter: a dry run gives the count and a confirm token',
    body: replayBody,
    handle: async ({ ctx, body, actor }) => {
      const { confirm, dryRun, name, ...filter } = body;
      if ((dryRun === true) === (confirm !== undefined)) {
        throw ValidationError.of(
          'confirm',
          'give dryRun: true to count, or the confirm token a dry run returned',
        );
      }
      const report = await replayFailures(
        ctx,
        { ...filter, ...(name ? { taskName: name } : {}) },
        { ...(confirm ? { confirm } : {}), origin: `admin:${actor}` },
      );
      return { status: report.dryRun ? 200 : 202, body: report };
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${BASE}/{id}`,
    role: 'viewer',
    summary: 'One task: args, kwargs, state, result, traceback, timings, retries, origin, periodic task',
    params: idParams,
    handle: async ({ ctx, params }) => ({ body: await getTaskResult(ctx, params.id) }),
  }),
  defineRoute({
    method: 'POST',
    path: `${BASE}/{id}/revoke`,
    role: 'admin',
    summary: 'Revoke a task that has not finished',
    params: idParams,
    handle: async ({ ctx, params }) => ({ body: await revokeTask(ctx, params.id) }),
  }),
  defineRoute({
    method: 'POST',
    path: `${BASE}/{id}/retry`,
    role: 'admin',
    summary: 'Re-send a FAILURE with its original arguments, as a new task whose parent it is',
    params: idParams,
    handle: async ({ ctx, params, actor }) => ({
      status: 202,
      body: await retryTask(ctx, params.id, `admin:${actor}`),
    }),
  }),
];

/**
 * The producer names a refused call by its place in a batch (`calls[0].args.0`); the request had
 * one call, its body, so the field a client can act on is `args.0`.
 */
function asBodyError(error: unknown): unknown {
  if (!(error instanceof ValidationError)) return error;
  return new ValidationError(
    error.issues.map((issue) => ({ ...issue, field: issue.field.replace(/^calls\[0\]\.?/, '') || 'body' })),
    { cause: error },
  );
}
