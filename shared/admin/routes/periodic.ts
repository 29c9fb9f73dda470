import { type PeriodicTask, periodicTaskSchema } from '../../beat/model.ts';
import type { PeriodicTaskPatch } from '../../beat/store.ts';
import {
  addPeriodicTask,
  getPeriodicTask,
  listPeriodicTasks,
  periodicRow,
  removePeriodicTask,
  runPeriodicTask,
  setPeriodicTaskEnabled,
  updatePeriodicTask,
} from '../../ops/beat.ts';
import { nowOf, type OpsContext } from '../../ops/context.ts';
import { previewDraft, replacePeriodicTask } from '../../ops/periodic-edit.ts';
import * as z from '../../schema.ts';
import { type AdminRoute, defineRoute, type ZodType } from '../route.ts';
import { pageQuery } from './params.ts';
import { periodicDetailSchema, periodicPageSchema, previewSchema } from './responses.ts';

const BASE = '/api/periodic-tasks';

const nameParams = z.strictObject({
  name: z
    .string()
    .check(
      z.minLength(1, { error: 'must not be empty' }),
      z.maxLength(200, { error: 'must be at most 200 characters' }),
    ),
});

const shape = periodicTaskSchema.shape;
/** PUT: the whole definition; its name may be left out (the path names it). */
const replaceBody = z.strictObject({ ...shape, name: z.optional(shape.name) });
/** PATCH: any field; `null` clears one back to its default. */
const patchBody = z.strictObject(
  Object.fromEntries(Object.entries(shape).map(([key, schema]) => [key, z.optional(z.nullable(schema))])),
) as unknown as ZodType<PeriodicTaskPatch>;
/** The form's draft: any fields of a definition (only the schedule's are read), and how many runs. */
const previewBody = z.strictObject({
  ...Object.fromEntries(Object.entries(shape).map(([key, schema]) => [key, z.optional(schema)])),
  count: z.optional(
    z
      .int({ error: 'must be a whole number' })
      .check(z.gte(1, { error: 'must be from 1 to 100' }), z.lte(100, { error: 'must be from 1 to 100' })),
  ),
}) as unknown as ZodType<Record<string, unknown> & { count?: number }>;

/** One periodic task as the API shows it: the definition and its listing row (next run, schedule in words). */
function detail(ctx: OpsContext, definition: PeriodicTask) {
  return { definition, row: periodicRow(definition, nowOf(ctx)) };
}

const SCHEDULE_FIELDS = ['crontab', 'interval', 'solar', 'clocked', 'startTime', 'expires'] as const;

/** django-celery-beat's admin (Periodic tasks), over the operations `celerity beat` calls. */
export const periodicRoutes: AdminRoute[] = [
  defineRoute({
    method: 'GET',
    path: BASE,
    role: 'viewer',
    summary: 'Periodic tasks by name, a page at a time (next run, last run, run count, enabled)',
    query: pageQuery,
    response: periodicPageSchema,
    handle: async ({ ctx, query }) => ({ body: await listPeriodicTasks(ctx, query) }),
  }),
  defineRoute({
    method: 'POST',
    path: BASE,
    role: 'admin',
    summary: 'Create a periodic task (one of crontab, interval, solar, clocked)',
    body: periodicTaskSchema,
    response: periodicDetailSchema,
    handle: async ({ ctx, body }) => ({ status: 201, body: detail(ctx, await addPeriodicTask(ctx, body)) }),
  }),
  defineRoute({
    method: 'POST',
    path: `${BASE}/preview`,
    role: 'viewer',
    summary: "The next runs of a definition not yet saved, in the schedule's zone and in UTC",
    body: previewBody,
    response: previewSchema,
    handle: async ({ ctx, body }) => {
      const schedule = Object.fromEntries(
        SCHEDULE_FIELDS.filter((k) => body[k] !== undefined).map((k) => [k, body[k]]),
      );
      return { body: previewDraft(ctx, schedule, body.count) };
    },
  }),
  defineRoute({
    method: 'GET',
    path: `${BASE}/{name}`,
    role: 'viewer',
    summary: 'One periodic task',
    params: nameParams,
    response: periodicDetailSchema,
    handle: async ({ ctx, params }) => ({ body: detail(ctx, await getPeriodicTask(ctx, params.name)) }),
  }),
  defineRoute({
    method: 'PUT',
    path: `${BASE}/{name}`,
    role: 'admin',
    summary: 'Replace a periodic task (fields left out go back to their defaults; run counts are kept)',
    params: nameParams,
    body: replaceBody,
    response: periodicDetailSchema,
    handle: async ({ ctx, params, body }) => ({
      body: detail(ctx, await replacePeriodicTask(ctx, params.name, body)),
    }),
  }),
  defineRoute({
    method: 'PATCH',
    path: `${BASE}/{name}`,
    role: 'admin',
    summary: 'Change some fields of a periodic task (null clears one)',
    params: nameParams,
    body: patchBody,
    response: periodicDetailSchema,
    handle: async ({ ctx, params, body }) => ({
      body: detail(ctx, await updatePeriodicTask(ctx, params.name, body)),
    }),
  }),
  defineRoute({
    method: 'DELETE',
    path: `${BASE}/{name}`,
    role: 'admin',
    summary: 'Delete a periodic task (its schedule goes with it)',
    params: nameParams,
    handle: async ({ ctx, params }) => ({ body: await removePeriodicTask(ctx, params.name) }),
  }),
  ...(['enable', 'disable'] as const).map((action) =>
    defineRoute({
      method: 'POST',
      path: `${BASE}/{name}/${action}`,
      role: 'admin',
      summary: `${action === 'enable' ? 'Enable' : 'Disable'} a periodic task`,
      params: nameParams,
      response: periodicDetailSchema,
      handle: async ({ ctx, params }) => ({
        body: detail(ctx, await setPeriodicTaskEnabled(ctx, params.name, action === 'enable')),
      }),
    }),
  ),
  defineRoute({
    method: 'POST',
    path: `${BASE}/{name}/run`,
    role: 'admin',
    summary: 'Run a periodic task now, outside its schedule (counted as one of its runs)',
    params: nameParams,
    handle: async ({ ctx, params }) => ({ status: 202, body: await runPeriodicTask(ctx, params.name) }),
  }),
];
