import type { PeriodicTaskInput } from '../../shared/beat/model.ts';
import { PERIODS, SOLAR_EVENTS } from '../../shared/beat/model.ts';
import { UsageError } from '../errors.ts';
import {
  atMostOne,
  parseCrontabLine,
  parseInstant,
  parseJsonArray,
  parseJsonObject,
  parseNumber,
} from '../parse.ts';

/** The flags of `beat add`, `beat update` and `beat preview`, read into definitions and patches. */

export interface ScheduleOptions {
  crontab?: string;
  timezone?: string;
  every?: string;
  period?: string;
  solar?: string;
  lat?: string;
  lon?: string;
  clocked?: string;
}

/** The one schedule the flags describe, checked flag by flag. */
export function scheduleFromOptions(
  o: ScheduleOptions,
): Pick<PeriodicTaskInput, 'crontab' | 'interval' | 'solar' | 'clocked'> {
  const kind = atMostOne(o as Record<string, unknown>, ['crontab', 'every', 'solar', 'clocked']);
  if (!kind)
    throw new UsageError(
      'schedule: give one of --crontab, --every (with --period), --solar (with --lat, --lon), --clocked',
    );
  if (o.timezone !== undefined && kind !== 'crontab')
    throw new UsageError('--timezone: only applies to --crontab');
  if (kind !== 'every' && o.period !== undefined) throw new UsageError('--period: only applies to --every');
  if (kind !== 'solar' && (o.lat !== undefined || o.lon !== undefined))
    throw new UsageError('--lat/--lon: only apply to --solar');
  switch (kind) {
    case 'crontab':
      return {
        crontab: {
          ...parseCrontabLine('--crontab', o.crontab as string),
          ...(o.timezone ? { timezone: o.timezone } : {}),
        },
      };
    case 'every': {
      const every = parseNumber('--every', o.every as string, { min: 1, integer: true });
      if (!o.period) throw new UsageError(`--period: required with --every (one of ${PERIODS.join(', ')})`);
      if (!(PERIODS as readonly string[]).includes(o.period)) {
        throw new UsageError(`--period: must be one of ${PERIODS.join(', ')} (got ${o.period})`);
      }
      return { interval: { every, period: o.period as (typeof PERIODS)[number] } };
    }
    case 'solar': {
      if (!(SOLAR_EVENTS as readonly string[]).includes(o.solar as string)) {
        throw new UsageError(`--solar: must be one of ${SOLAR_EVENTS.join(', ')} (got ${o.solar})`);
      }
      if (o.lat === undefined || o.lon === undefined)
        throw new UsageError('--lat and --lon: both required with --solar');
      return {
        solar: {
          event: o.solar as (typeof SOLAR_EVENTS)[number],
          latitude: parseNumber('--lat', o.lat, { min: -90, max: 90 }),
          longitude: parseNumber('--lon', o.lon, { min: -180, max: 180 }),
        },
      };
    }
    default:
      return { clocked: { clockedTime: parseInstant('--clocked', o.clocked as string).toISOString() } };
  }
}

export interface AddOptions extends ScheduleOptions {
  name: string;
  task: string;
  args?: string;
  kwargs?: string;
  queue?: string;
  oneOff?: boolean;
  expires?: string;
  start?: string;
  description?: string;
  disabled?: boolean;
}

/** The optional fields `beat update --clear` empties, by the flag that sets them. */
export const CLEARABLE = {
  args: 'args',
  kwargs: 'kwargs',
  queue: 'queue',
  expires: 'expires',
  start: 'startTime',
  description: 'description',
} as const satisfies Record<string, keyof PeriodicTaskInput>;

type Clearable = keyof typeof CLEARABLE;

export interface UpdateOptions extends Omit<AddOptions, 'name' | 'task' | 'oneOff'> {
  task?: string;
  oneOff?: boolean;
  enabled?: boolean;
  clear?: string;
}

/**
 * The patch `beat update` flags describe: only the fields given change; `--clear` sets optional
 * ones back to their defaults; a schedule flag replaces the whole stored schedule.
 */
export function patchFromOptions(o: UpdateOptions): Partial<Record<keyof PeriodicTaskInput, unknown>> {
  atMostOne(o, ['disabled', 'enabled']);
  const cleared = (o.clear ?? '')
    .split(',')
    .map((f) => f.trim())
    .filter(Boolean);
  for (const field of cleared) {
    if (!(field in CLEARABLE)) {
      throw new UsageError(`--clear: ${field} is not one of ${Object.keys(CLEARABLE).join(', ')}`);
    }
    if ((o as Record<string, unknown>)[field] !== undefined) {
      throw new UsageError(`--clear ${field} and --${field}: give one or the other`);
    }
  }
  const scheduleGiven = (
    ['crontab', 'timezone', 'every', 'period', 'solar', 'lat', 'lon', 'clocked'] as const
  ).some((flag) => o[flag] !== undefined);
  const patch: Partial<Record<keyof PeriodicTaskInput, unknown>> = {
    ...(scheduleGiven ? scheduleFromOptions(o) : {}),
    ...(o.task !== undefined ? { task: o.task } : {}),
    ...(o.args !== undefined ? { args: parseJsonArray('--args', o.args) } : {}),
    ...(o.kwargs !== undefined ? { kwargs: parseJsonObject('--kwargs', o.kwargs) } : {}),
    ...(o.queue !== undefined ? { queue: o.queue } : {}),
    ...(o.oneOff !== undefined ? { oneOff: o.oneOff } : {}),
    ...(o.expires !== undefined ? { expires: parseInstant('--expires', o.expires).toISOString() } : {}),
    ...(o.start !== undefined ? { startTime: parseInstant('--start', o.start).toISOString() } : {}),
    ...(o.description !== undefined ? { description: o.description } : {}),
    ...(o.disabled ? { enabled: false } : o.enabled ? { enabled: true } : {}),
    ...Object.fromEntries(cleared.map((f) => [CLEARABLE[f as Clearable], null])),
  };
  if (Object.keys(patch).length === 0) {
    throw new UsageError('nothing to change: give the flags of the fields to change (see --help)');
  }
  return patch;
}

export function definitionFromOptions(o: AddOptions): PeriodicTaskInput {
  return {
    name: o.name,
    task: o.task,
    ...scheduleFromOptions(o),
    ...(o.args !== undefined ? { args: parseJsonArray('--args', o.args) } : {}),
    ...(o.kwargs !== undefined ? { kwargs: parseJsonObject('--kwargs', o.kwargs) } : {}),
    ...(o.queue !== undefined ? { queue: o.queue } : {}),
    ...(o.oneOff ? { oneOff: true } : {}),
    ...(o.expires !== undefined ? { expires: parseInstant('--expires', o.expires).toISOString() } : {}),
    ...(o.start !== undefined ? { startTime: parseInstant('--start', o.start).toISOString() } : {}),
    ...(o.description !== undefined ? { description: o.description } : {}),
    ...(o.disabled ? { enabled: false } : {}),
  };
}

/** A name as a shell would take it: quoted when it holds anything but plain characters. */
export function shellWord(text: string): string {
  return /^[\w.:@%+=,/-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}
