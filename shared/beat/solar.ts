import { createRequire } from 'node:module';
import type * as Astronomy from 'astronomy-engine';
import type { SolarEvent, SolarSchedule } from './definition.ts';

/**
 * astronomy-engine (100 KB minified) is required on the first solar search, not imported: the
 * worker reaches this module (Beat's store, the solar re-arm) but only a solar schedule needs the
 * engine, so a plain task's cold start should not parse it. A bundler cannot follow this
 * `require`; the stack copies the package beside each bundle instead (`infra/constructs/function.ts`).
 */
const requireEngine = createRequire(import.meta.url);
let engine: typeof Astronomy | undefined;
const astronomy = (): typeof Astronomy => {
  engine ??= requireEngine('astronomy-engine') as typeof Astronomy;
  return engine;
};

/** How far ahead to look for an event before calling a schedule impossible (polar day or night). */
export const SOLAR_SEARCH_DAYS = 366;

/**
 * Celery computes solar events with `ephem` at zero elevation with refraction switched off
 * (`pressure = 0`): sunrise and sunset when the Sun's upper limb is 34′ below the horizon, dawns and
 * dusks when its centre is 6°, 12° or 18° below, solar noon at the meridian transit.
 * astronomy-engine's rise/set search (upper limb, 34′ of standard refraction) and its altitude
 * search (geometric, centre) are those same definitions. Celery's table gives
 * `dusk_astronomical` a horizon of +18°, a slip that would make it fire at a sun-high moment most
 * days; we use −18°, the event's meaning.
 */
const DEPRESSION: Partial<Record<SolarEvent, number>> = {
  dawn_astronomical: -18,
  dawn_nautical: -12,
  dawn_civil: -6,
  dusk_civil: -6,
  dusk_nautical: -12,
  dusk_astronomical: -18,
};

/**
 * The first time strictly after `after` that the event happens at the place, searching up to
 * `SOLAR_SEARCH_DAYS` ahead so that polar day and night are stepped over; `undefined` if none.
 * Rounded down to the whole second, the precision of an `at()` expression.
 */
export function nextSolarEvent(solar: SolarSchedule, after: Date): Date | undefined {
  const { Body, Observer, SearchAltitude, SearchHourAngle, SearchRiseSet } = astronomy();
  const observer = new Observer(solar.latitude, solar.longitude, 0);
  const start = new Date(after.getTime() + 1000);
  let found: Date | undefined;
  if (solar.event === 'solar_noon') {
    found = SearchHourAngle(Body.Sun, observer, 0, start, +1).time.date;
  } else if (solar.event === 'sunrise' || solar.event === 'sunset') {
    const direction = solar.event === 'sunrise' ? +1 : -1;
    found = SearchRiseSet(Body.Sun, observer, direction, start, SOLAR_SEARCH_DAYS)?.date;
  } else {
    const direction = solar.event.startsWith('dawn') ? +1 : -1;
    const altitude = DEPRESSION[solar.event] as number;
    found = SearchAltitude(Body.Sun, observer, direction, start, SOLAR_SEARCH_DAYS, altitude)?.date;
  }
  return found && new Date(Math.floor(found.getTime() / 1000) * 1000);
}
