import { type PeriodicTask, type PeriodicTaskInput, periodicTaskSchema } from '../beat/model.ts';
import type { PeriodicTaskPatch } from '../beat/store.ts';
import { offsetAt } from '../beat/zoned-time.ts';
import { ValidationError } from '../errors.ts';
import { periodicStore, previewInput, type SchedulePreview } from './beat.ts';
import type { OpsContext } from './context.ts';

/** What a replace keeps from the stored row: the run statistics, which are the scheduler's, not the editor's. */
const KEPT_ON_REPLACE = new Set(['name', 'lastRunAt', 'totalRunCount', 'dateChanged']);

/**
 * Django admin's "Save" of the whole form: the definition becomes `input`, every field it leaves
 * out going back to its default. The run statistics are kept. Validated as `add` validates.
 */
export function replacePeriodicTask(
  ctx: OpsContext,
  name: string,
  input: PeriodicTaskInput | Omit<PeriodicTaskInput, 'name'>,
): Promise<PeriodicTask> {
  const given = input as Record<string, unknown>;
  if (given.name !== undefined && given.name !== name) {
    throw ValidationError.of(
      'name',
      `must be ${JSON.stringify(name)}, the name in the path (a rename is an add and a remove)`,
    );
  }
  const patch: Record<string, unknown> = {};
  for (const field of Object.keys(periodicTaskSchema.shape)) {
    if (KEPT_ON_REPLACE.has(field)) continue;
    patch[field] = given[field] ?? null;
  }
  for (const field of ['lastRunAt', 'totalRunCount'] as const) {
    if (given[field] !== undefined) patch[field] = given[field];
  }
  return periodicStore(ctx).update(name, patch as PeriodicTaskPatch);
}

/** An instant as the clocks of `timeZone` show it, ISO 8601 with that zone's offset then. */
export function zonedIso(instant: string, timeZone: string): string {
  const t = Date.parse(instant);
  const offset = offsetAt(timeZone, t);
  const local = new Date(t + offset).toISOString().slice(0, 19);
  if (offset === 0) return `${local}Z`;
  const minutes = Math.abs(offset) / 60_000;
  const hh = String(Math.floor(minutes / 60)).padStart(2, '0');
  const mm = String(minutes % 60).padStart(2, '0');
  return `${local}${offset < 0 ? '-' : '+'}${hh}:${mm}`;
}

export interface ZonedPreview extends SchedulePreview {
  /** The same instants as `times`, in the schedule's zone. */
  localTimes: string[];
}

/**
 * The next runs of a schedule not yet saved (the form's live preview): `beat preview`'s
 * `nextFireTimes`, in UTC and in the schedule's zone. Bad schedules throw `ValidationError`.
 */
export function previewDraft(
  ctx: OpsContext,
  schedule: Parameters<typeof previewInput>[1],
  count?: number,
): ZonedPreview {
  const preview = previewInput(ctx, schedule, count);
  return { ...preview, localTimes: preview.times.map((t) => zonedIso(t, preview.timezone)) };
}
