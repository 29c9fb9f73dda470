/**
 * A brute-force reference for Celery crontab run times, written from Celery's documented meaning
 * and independent of shared/beat: it shares no code with the translator, reads zone offsets a
 * different way (`timeZoneName: 'longOffset'` instead of wall-clock parts) and walks forward in
 * UTC instead of resolving wall times backwards.
 *
 * Celery's meaning (celery.schedules.crontab): a run happens at every minute whose local wall
 * clock has minute ∈ minute, hour ∈ hour, month ∈ month_of_year, day ∈ day_of_month AND weekday ∈
 * day_of_week (Sunday = 0). Fields are comma lists of `*`, `*∕n`, `a`, `a-b` (wrapping when b < a)
 * and `a-b∕n` (every n-th value of the expanded range); day of week also takes day names.
 *
 * The naive walk visits every UTC minute of the window and asks whether the wall clock there
 * matches. It never sees wall times in a spring-forward gap (EventBridge skips those too), but it
 * sees a wall time in the repeated autumn hour twice, where EventBridge Scheduler runs it once. So
 * `eventBridge` drops the second sighting of a wall time; `repeated` lists what was dropped.
 */

const MINUTE = 60_000;
const BLOCK = 15 * MINUTE;
const HOUR = 60 * MINUTE;

export interface CelerySpec {
  minute?: string;
  hour?: string;
  dayOfWeek?: string;
  dayOfMonth?: string;
  monthOfYear?: string;
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'];

function value(token: string, names: boolean): number {
  if (/^\d+$/.test(token)) return Number(token);
  const index = names ? DAYS.indexOf(token.slice(0, 3).toLowerCase()) : -1;
  if (index < 0) throw new Error(`reference cannot read ${token}`);
  return index;
}

/** Celery's expansion of one field into a membership table indexed by value. */
export function expandCelery(spec: string, low: number, high: number, names = false): boolean[] {
  const member: boolean[] = new Array(high + 1).fill(false);
  for (const rawPart of spec.split(',')) {
    const part = rawPart.trim();
    const [body = '', stepText] = part.split('/');
    const step = stepText === undefined ? 1 : Number(stepText);
    let sequence: number[] = [];
    if (body === '*') {
      for (let v = low; v <= high; v++) sequence.push(v);
    } else {
      const [a = '', b] = body.split('-');
      const from = value(a, names);
      const to = b === undefined ? from : value(b, names);
      if (to >= from) for (let v = from; v <= to; v++) sequence.push(v);
      else {
        for (let v = from; v <= high; v++) sequence.push(v);
        for (let v = low; v <= to; v++) sequence.push(v);
      }
    }
    sequence = sequence.filter((_, i) => i % step === 0);
    for (const v of sequence) member[v] = true;
  }
  return member;
}

const offsetFormats = new Map<string, Intl.DateTimeFormat>();
const offsetCache = new Map<string, number>();

function offsetMs(timeZone: string, instant: number): number {
  const key = `${timeZone}@${instant}`;
  const cached = offsetCache.get(key);
  if (cached !== undefined) return cached;
  let format = offsetFormats.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' });
    offsetFormats.set(timeZone, format);
  }
  const name = format.formatToParts(instant).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const m = /^GMT(?:([+-])(\d\d):(\d\d))?$/.exec(name);
  if (!m) throw new Error(`unexpected offset ${name}`);
  const offset = m[1] ? (m[1] === '-' ? -1 : 1) * (Number(m[2]) * HOUR + Number(m[3]) * MINUTE) : 0;
  offsetCache.set(key, offset);
  return offset;
}

/** The offset for a 15-minute block of UTC (every real zone changes offset on a quarter hour). */
function blockOffset(timeZone: string, blockStart: number): number {
  const hourStart = Math.floor(blockStart / HOUR) * HOUR;
  const atHour = offsetMs(timeZone, hourStart);
  if (atHour === offsetMs(timeZone, hourStart + HOUR)) return atHour;
  return offsetMs(timeZone, blockStart);
}

export interface ReferenceTimes {
  /** Every UTC minute whose wall clock matches, repeated-hour minutes twice. */
  naive: number[];
  /** As EventBridge Scheduler fires: each wall time once, at its first occurrence. */
  eventBridge: number[];
  /** The instants `naive` has and `eventBridge` drops (second sightings in a repeated hour). */
  repeated: number[];
}

/** Celery's run times in `[from, to)` (UTC ms) for a crontab read in `timeZone`. */
export function celeryRunTimes(spec: CelerySpec, timeZone: string, from: number, to: number): ReferenceTimes {
  const minute = expandCelery(spec.minute ?? '*', 0, 59);
  const hour = expandCelery(spec.hour ?? '*', 0, 23);
  const dow = expandCelery(spec.dayOfWeek ?? '*', 0, 6, true);
  const dom = expandCelery(spec.dayOfMonth ?? '*', 1, 31);
  const month = expandCelery(spec.monthOfYear ?? '*', 1, 12);
  const naive: number[] = [];
  const eventBridge: number[] = [];
  const repeated: number[] = [];
  // Time only runs forward, so a wall time at or below the latest one seen is a second sighting.
  let latestWallTime = -Infinity;
  for (let block = Math.floor(from / BLOCK) * BLOCK; block < to; block += BLOCK) {
    const offset = blockOffset(timeZone, block);
    const wall = new Date(block + offset);
    if (!month[wall.getUTCMonth() + 1] || !dom[wall.getUTCDate()] || !dow[wall.getUTCDay()]) continue;
    if (!hour[wall.getUTCHours()]) continue;
    const firstMinute = wall.getUTCMinutes();
    for (let i = 0; i < 15; i++) {
      const instant = block + i * MINUTE;
      if (instant < from || instant >= to || !minute[firstMinute + i]) continue;
      naive.push(instant);
      const wallTime = instant + offset;
      if (wallTime <= latestWallTime) repeated.push(instant);
      else {
        latestWallTime = wallTime;
        eventBridge.push(instant);
      }
    }
  }
  return { naive, eventBridge, repeated };
}
