import { createPeriodicTaskStore } from '../app.ts';
import type { AwsClients } from '../aws/clients.ts';
import { type PeriodicTask, type PeriodicTaskInput, parsePeriodicTask, scheduleKind } from '../beat/model.ts';
import { nextFireTimes } from '../beat/next-fire.ts';
import type { PeriodicTaskPatch, PeriodicTaskStore } from '../beat/store.ts';
import { ValidationError } from '../errors.ts';
import type { SentTask } from '../producer/errors.ts';
import { nowOf, type OpsContext } from './context.ts';
import { NotFoundError } from './errors.ts';
import { sendTask } from './tasks.ts';

/** A periodic task as a listing shows it. */
export interface PeriodicTaskRow {
  name: string;
  task?: string;
  enabled?: boolean;
  kind?: string;
  /** The schedule in words: `0 9 * * * (Europe/London)`, `every 5 minutes`, ... */
  schedule?: string;
  queue?: string;
  oneOff?: boolean;
  nextRun?: string;
  lastRunAt?: string;
  totalRunCount?: number;
  description?: string;
  /** Set when the stored row no longer validates (hand-edited): why. */
  error?: string;
}

export function periodicStore(ctx: OpsContext): PeriodicTaskStore {
  // Only the document client is used; the other door (the admin API) passes the same shape.
  return createPeriodicTaskStore({
    config: ctx.config,
    clients: ctx.clients as AwsClients,
    registry: ctx.registry,
  });
}

export function describeSchedule(definition: PeriodicTask): string {
  const { crontab, interval, solar, clocked } = definition;
  if (crontab) {
    const fields = [crontab.minute, crontab.hour, crontab.dayOfMonth, crontab.monthOfYear, crontab.dayOfWeek];
    return `${fields.join(' ')} (${crontab.timezone})`;
  }
  if (interval)
    return `every ${interval.every} ${interval.every === 1 ? interval.period.replace(/s$/, '') : interval.period}`;
  if (solar) return `${solar.event} at ${solar.latitude}, ${solar.longitude}`;
  return `at ${clocked?.clockedTime}`;
}

/** The zone a definition's times read in: its crontab's, else the app's. */
export function scheduleZone(definition: PeriodicTask, fallback: string): string {
  return definition.crontab?.timezone ?? fallback;
}

export function periodicRow(definition: PeriodicTask, now: Date): PeriodicTaskRow {
  const [next] = nextFireTimes(definition, { after: now, count: 1 });
  return {
    name: definition.name,
    task: definition.task,
    enabled: definition.enabled,
    kind: scheduleKind(definition),
    schedule: describeSchedule(definition),
    ...(definition.queue ? { queue: definition.queue } : {}),
    oneOff: definition.oneOff,
    ...(next ? { nextRun: next.toISOString() } : {}),
    ...(definition.lastRunAt ? { lastRunAt: definition.lastRunAt } : {}),
    totalRunCount: definition.totalRunCount,
    ...(definition.description ? { description: definition.description } : {}),
  };
}

/** django-celery-beat's admin list: one page by name, from the table's index. */
export async function listPeriodicTasks(
  ctx: OpsContext,
  options: { limit?: number; cursor?: string } = {},
): Promise<{ items: PeriodicTaskRow[]; cursor?: string }> {
  const now = nowOf(ctx);
  const page = await periodicStore(ctx).list(options);
  return {
    items: page.items.map((item) =>
      'definition' in item
        ? periodicRow(item.definition, now)
        : { name: item.name, error: item.error.message },
    ),
    ...(page.cursor ? { cursor: page.cursor } : {}),
  };
}

export async function getPeriodicTask(ctx: OpsContext, name: string): Promise<PeriodicTask> {
  const definition = await periodicStore(ctx).get(name);
  if (!definition) throw new NotFoundError('periodic task', name, 'see `beat list` for the names there are');
  return definition;
}

export function addPeriodicTask(ctx: OpsContext, input: PeriodicTaskInput): Promise<PeriodicTask> {
  return periodicStore(ctx).add(input);
}

/**
 * Changes the given fields of a periodic task and leaves the rest (a `null` clears one); a new
 * schedule replaces the stored one. The whole result is validated as `add` validates.
 */
export function updatePeriodicTask(
  ctx: OpsContext,
  name: string,
  patch: PeriodicTaskPatch,
): Promise<PeriodicTask> {
  return periodicStore(ctx).update(name, patch);
}

export async function setPeriodicTaskEnabled(
  ctx: OpsContext,
  name: string,
  enabled: boolean,
): Promise<PeriodicTask> {
  await getPeriodicTask(ctx, name);
  return periodicStore(ctx).setEnabled(name, enabled);
}

export async function removePeriodicTask(
  ctx: OpsContext,
  name: string,
): Promise<{ name: string; removed: true }> {
  if (!(await periodicStore(ctx).remove(name))) {
    throw new NotFoundError('periodic task', name, 'see `beat list` for the names there are');
  }
  return { name, removed: true };
}

/** The seed's `setup_periodic_tasks`: creates the defaults that do not exist yet. */
export function setupPeriodicTasks(ctx: OpsContext): Promise<{ created: string[]; existing: string[] }> {
  return periodicStore(ctx).setupDefaults();
}

/**
 * Django admin's "Run selected tasks": sends the task now, outside its schedule, marked as that
 * periodic task's so the run is counted like a scheduled one.
 */
export async function runPeriodicTask(ctx: OpsContext, name: string): Promise<SentTask> {
  const definition = await getPeriodicTask(ctx, name);
  const now = nowOf(ctx);
  return sendTask(ctx, {
    task: definition.task,
    args: definition.args,
    kwargs: definition.kwargs,
    periodicTask: definition.name,
    ...(definition.queue ? { queue: definition.queue } : {}),
    ...(definition.expireSeconds
      ? { expires: new Date(now.getTime() + definition.expireSeconds * 1000) }
      : definition.expires
        ? { expires: definition.expires }
        : {}),
  });
}

export interface SchedulePreview {
  name?: string;
  schedule: string;
  timezone: string;
  /** UTC instants. */
  times: string[];
}

/** The next runs of a definition, as the Scheduler will fire them (via `nextFireTimes`). */
export function previewSchedule(
  definition: PeriodicTask,
  options: { count?: number; now?: Date; defaultTimezone?: string } = {},
): SchedulePreview {
  const count = options.count ?? 5;
  if (!Number.isInteger(count) || count < 1 || count > 1000) {
    throw ValidationError.of('count', `must be a whole number from 1 to 1000 (got ${count})`);
  }
  const times = nextFireTimes(definition, { after: options.now ?? new Date(), count });
  return {
    name: definition.name,
    schedule: describeSchedule(definition),
    timezone: scheduleZone(definition, options.defaultTimezone ?? 'UTC'),
    times: times.map((t) => t.toISOString()),
  };
}

/** A schedule given on its own (no stored task), validated as a definition would be. */
export function previewInput(
  ctx: OpsContext,
  schedule: Pick<PeriodicTaskInput, 'crontab' | 'interval' | 'solar' | 'clocked' | 'startTime' | 'expires'>,
  count?: number,
): SchedulePreview {
  const now = nowOf(ctx);
  const definition = parsePeriodicTask(
    { name: 'preview', task: 'celerity.preview', ...schedule },
    { now, defaultTimezone: ctx.config.timezone },
  );
  const { name: _name, ...preview } = previewSchedule(definition, {
    now,
    defaultTimezone: ctx.config.timezone,
    ...(count !== undefined ? { count } : {}),
  });
  return preview;
}

export async function previewPeriodicTask(
  ctx: OpsContext,
  name: string,
  count?: number,
): Promise<SchedulePreview> {
  const definition = await getPeriodicTask(ctx, name);
  return previewSchedule(definition, {
    now: nowOf(ctx),
    defaultTimezone: ctx.config.timezone,
    ...(count !== undefined ? { count } : {}),
  });
}
