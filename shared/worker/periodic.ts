import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import { guardAllows } from '../beat/guard.ts';
import { expansionOffsets, MAX_DELAY_SECONDS } from '../beat/interval.ts';
import type { PeriodicTaskStore, RunRecord } from '../beat/store.ts';
import type { BeatTarget } from '../beat/target.ts';
import type { Envelope } from '../envelope/schema.ts';
import type { Logger } from '../log.ts';
import { InvalidExpansionError } from './errors.ts';
import { rearmSolar } from './solar-rearm.ts';

/** What a delivered message means, once its schedule's instructions (`envelope.beat`) are read. */
export type Admission =
  /** A tick on a day Celery would not run (the day guard): nothing runs, nothing is recorded. */
  | { kind: 'skip' }
  /** Run `envelope`; send `later` (the rest of a sub-minute interval's runs) with their delays. */
  | { kind: 'run'; envelope: Envelope; later: { envelope: Envelope; delaySeconds: number }[] };

/** Django-celery-beat sends `expires = now + expire_seconds`; here "now" is the run's scheduled time. */
function withExpiry(envelope: Envelope, scheduledAt: number): Envelope {
  const seconds = envelope.beat?.expireSeconds;
  if (seconds === undefined || envelope.expires) return envelope;
  return { ...envelope, expires: new Date(scheduledAt + seconds * 1000).toISOString() };
}

/**
 * Reads a periodic run's `beat` instructions. A trigger of a sub-minute interval becomes its
 * runs, each at scheduled time + offset (counted from the scheduled time, not from arrival, so
 * the Scheduler's lateness does not shift the rhythm), each with its own task id: execution id
 * and index, so a redelivered trigger makes the same ids and the claim drops the copies.
 * Throws for a guard zone that does not exist or an expansion past SQS's longest delay: the
 * caller records that against this message alone.
 */
export function admitPeriodic(envelope: Envelope, now: number): Admission {
  const beat = envelope.beat;
  if (!beat) return { kind: 'run', envelope, later: [] };
  const scheduledAt = Date.parse(beat.scheduledAt);
  if (beat.guard && !guardAllows(beat.guard, new Date(scheduledAt))) return { kind: 'skip' };
  if (!beat.expansion) return { kind: 'run', envelope: withExpiry(envelope, scheduledAt), later: [] };
  const { expansion, ...rest } = beat;
  // One trigger covers at most the longest SQS delay; more would be work nobody scheduled.
  if ((expansion.count - 1) * expansion.everySeconds > MAX_DELAY_SECONDS)
    throw new InvalidExpansionError(expansion.count, expansion.everySeconds, MAX_DELAY_SECONDS);
  const runs = expansionOffsets(expansion).map((offsetSeconds, index) => {
    const at = scheduledAt + offsetSeconds * 1000;
    const run: Envelope = {
      ...envelope,
      id: `${envelope.id}-${index}`,
      ...(at > now ? { eta: new Date(at).toISOString() } : {}),
      beat: { ...rest, scheduledAt: new Date(at).toISOString(), run: index },
    };
    // Rounded down: SQS delays are whole seconds, and the poller's batching window adds up to one
    // more, so the run starts at most about a second after its time; never more than 1 s early
    // (the worker runs an eta closer than that at once).
    return { envelope: withExpiry(run, at), delaySeconds: Math.max(0, Math.floor((at - now) / 1000)) };
  });
  const [first, ...later] = runs;
  // The first is due now (offset 0): it runs in this batch; an early one waits on its eta.
  return first ? { kind: 'run', envelope: first.envelope, later } : { kind: 'skip' };
}

/** The periodic-tasks table, the Scheduler (for solar re-arming) and the schedules' target. */
export interface PeriodicBeat {
  store: PeriodicTaskStore;
  /** Called at the first solar re-arm only. */
  scheduler: () => SchedulerClient;
  target: BeatTarget;
}

export interface PeriodicBookkeeperOptions {
  /**
   * Gives the table and the Scheduler, called at the first periodic run that needs them: Beat's
   * store, its schedule model and astronomy-engine stay out of the worker's cold start. Without
   * it, runs are not counted (a worker of an app without Beat).
   */
  beat?: () => Promise<PeriodicBeat>;
  logger: Logger;
}

/**
 * What a periodic run changes besides its result: the periodic task's run statistics, a one-off
 * task disabled, a solar schedule moved to the next event.
 */
export class PeriodicBookkeeper {
  readonly #load: (() => Promise<PeriodicBeat>) | undefined;
  #loaded: Promise<PeriodicBeat> | undefined;
  readonly #log: Logger;

  constructor(options: PeriodicBookkeeperOptions) {
    this.#load = options.beat;
    this.#log = options.logger;
  }

  /** Loaded once; a failed load (a module or a client that could not be made) is tried again. */
  #beat(load: () => Promise<PeriodicBeat>): Promise<PeriodicBeat> {
    this.#loaded ??= load().catch((error: unknown) => {
      this.#loaded = undefined;
      throw error;
    });
    return this.#loaded;
  }

  /**
   * For every delivery of a periodic run, whether or not it runs now (a redelivery of a finished
   * one included): disabling a one-off task and re-arming a solar schedule are idempotent, and
   * doing them at each delivery means a failed attempt is repeated when the message comes back.
   * Resolves to the envelopes whose follow-up failed (their messages must come back).
   */
  async afterDelivery(envelopes: readonly Envelope[]): Promise<Set<Envelope>> {
    const failed = new Set<Envelope>();
    await Promise.all(
      envelopes.map(async (envelope) => {
        const name = envelope.periodicTask;
        if (!name || !envelope.beat || (!envelope.beat.oneOff && !envelope.beat.rearm)) return;
        try {
          if (envelope.beat.oneOff) await this.#disableOneOff(name);
          if (envelope.beat.rearm) await this.#rearm(name, Date.parse(envelope.beat.scheduledAt));
        } catch (error) {
          this.#log.error('periodic follow-up failed; the message will be delivered again', {
            periodicTask: name,
            taskId: envelope.id,
            error: (error as Error).message,
          });
          failed.add(envelope);
        }
      }),
    );
    return failed;
  }

  /**
   * The queued runs of a sub-minute interval (sent up to a minute ahead) whose periodic task has
   * since been disabled or removed: they are dropped, so disabling stops the task at once, as
   * Celery Beat would. One consistent read per periodic task per batch, for those runs only.
   */
  async withdrawn(envelopes: readonly Envelope[]): Promise<Set<Envelope>> {
    const queued = envelopes.filter((e) => e.periodicTask && (e.beat?.run ?? 0) > 0);
    const dropped = new Set<Envelope>();
    if (queued.length === 0 || !this.#load) return dropped;
    const { store } = await this.#beat(this.#load);
    const names = [...new Set(queued.map((e) => e.periodicTask as string))];
    const enabled = new Map<string, boolean>();
    await Promise.all(
      names.map(async (name) => {
        try {
          enabled.set(name, (await store.get(name))?.enabled === true);
        } catch (error) {
          // An unreadable row (edited by hand) keeps its runs: the schedule decides, as before.
          this.#log.warn('could not read a periodic task; its queued runs go ahead', {
            periodicTask: name,
            error: (error as Error).message,
          });
          enabled.set(name, true);
        }
      }),
    );
    for (const envelope of queued) if (!enabled.get(envelope.periodicTask as string)) dropped.add(envelope);
    return dropped;
  }

  /**
   * Counts the runs that started (first attempts only: a retry is the same run). One update per
   * periodic task per batch; a lost update costs a statistic, never a run, so it is logged only.
   */
  async recordRuns(envelopes: readonly Envelope[]): Promise<void> {
    const runs = new Map<string, RunRecord>();
    for (const envelope of envelopes) {
      const name = envelope.periodicTask;
      if (!name || !envelope.beat || envelope.retries > 0) continue;
      const previous = runs.get(name);
      const at = envelope.beat.scheduledAt;
      runs.set(name, {
        name,
        count: (previous?.count ?? 0) + 1,
        lastRunAt: previous && previous.lastRunAt > at ? previous.lastRunAt : at,
      });
    }
    if (runs.size === 0) return;
    if (!this.#load) {
      this.#log.warn('periodic runs not counted: no periodic-tasks table is configured', {
        periodicTasks: [...runs.keys()],
      });
      return;
    }
    try {
      const { store } = await this.#beat(this.#load);
      await store.recordRuns([...runs.values()]);
    } catch (error) {
      this.#log.warn('could not record periodic run statistics', { error: (error as Error).message });
    }
  }

  async #disableOneOff(name: string): Promise<void> {
    if (!this.#load) throw new Error('a one-off periodic run needs the periodic-tasks table to disable it');
    const { store } = await this.#beat(this.#load);
    if (await store.disableOneOff(name))
      this.#log.info('one-off periodic task disabled', { periodicTask: name });
  }

  /** The next event's `at()`, planned from just after this one, written straight to the schedule. */
  async #rearm(name: string, scheduledAt: number): Promise<void> {
    if (!this.#load) {
      throw new Error('re-arming a solar schedule needs the periodic-tasks table and the Scheduler');
    }
    await rearmSolar(await this.#beat(this.#load), name, scheduledAt, this.#log);
  }
}
