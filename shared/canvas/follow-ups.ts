import type { CeleryResultWriter } from '../celery/result-backend.ts';
import type { CelerityConfig } from '../config/config.ts';
import type { Envelope } from '../envelope/schema.ts';
import type { Logger } from '../log.ts';
import type { Producer } from '../producer/producer.ts';
import type { TaskResultRecord } from '../results/record.ts';
import type { ResultStore } from '../results/store.ts';

/**
 * A task of the batch that is ready (SUCCESS, FAILURE, REVOKED), with the message that brought it.
 * `record` is its ready row; it is absent for a redelivery of a task the claim found finished
 * (its row is read back before the steps see it).
 */
export interface Finished {
  messageId: string;
  envelope: Envelope;
  record: TaskResultRecord | undefined;
}

/** A finished task whose row is known. */
export type FinishedTask = Finished & { record: TaskResultRecord };

export interface FollowUpDeps {
  producer: Producer;
  store: ResultStore;
  config: CelerityConfig;
  log: Logger;
  /** With the Celery result layout on: what a Celery producer's chain records, Celery reads too. */
  celery?: CeleryResultWriter;
}

/**
 * One kind of follow-up (a chain's next task and the links; a chord's count): given the batch's
 * finished tasks that have follow-ups, does them and returns the message ids whose follow-ups
 * could not be done for now, each with why. Every step must be idempotent: a message given back
 * comes again, its task is then found finished, and the step runs again for it.
 */
export type FollowUpStep = (
  finished: readonly FinishedTask[],
  deps: FollowUpDeps,
) => Promise<Map<string, string>>;

/** Whether a task's message asks for anything after it is ready. */
export function hasFollowUps(envelope: Envelope): boolean {
  return (
    (envelope.link?.length ?? 0) > 0 ||
    (envelope.linkError?.length ?? 0) > 0 ||
    (envelope.chain?.length ?? 0) > 0 ||
    envelope.group?.chord === true
  );
}

/**
 * What the worker does once a batch's outcomes are recorded, and again for a redelivered message
 * whose task had finished: the follow-ups are sent only after the row that warrants them is
 * written, and the message is deleted only after they went, so a crash between the two is mended
 * by the redelivery. Tasks with no follow-ups cost nothing here.
 */
export class FollowUps {
  readonly #deps: FollowUpDeps;
  readonly #steps: readonly FollowUpStep[];

  constructor(deps: FollowUpDeps, steps: readonly FollowUpStep[]) {
    this.#deps = deps;
    this.#steps = steps;
  }

  /** Returns the message ids to give back, each with why. */
  async afterOutcomes(finished: readonly Finished[]): Promise<Map<string, string>> {
    const unfinished = new Map<string, string>();
    const relevant = finished.filter((f) => hasFollowUps(f.envelope));
    if (relevant.length === 0 || this.#steps.length === 0) return unfinished;
    const ready = await this.#withRows(relevant, unfinished);
    for (const step of this.#steps) {
      const todo = ready.filter((f) => !unfinished.has(f.messageId));
      if (todo.length === 0) break;
      try {
        for (const [messageId, why] of await step(todo, this.#deps))
          if (!unfinished.has(messageId)) unfinished.set(messageId, why);
      } catch (error) {
        const why = `follow-ups not done: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
        this.#deps.log.error('follow-ups failed; their messages will be delivered again', { error: why });
        for (const f of todo) unfinished.set(f.messageId, why);
      }
    }
    return unfinished;
  }

  /** Reads back the rows a redelivery did not carry; one that cannot be read comes back later. */
  async #withRows(finished: readonly Finished[], unfinished: Map<string, string>): Promise<FinishedTask[]> {
    const missing = finished.filter((f) => f.record === undefined);
    const rows = new Map<string, TaskResultRecord>();
    if (missing.length > 0) {
      try {
        for (const row of await this.#deps.store.getMany(missing.map((f) => f.envelope.id)))
          rows.set(row.taskId, row);
      } catch (error) {
        const why = `could not read finished rows: ${error instanceof Error ? error.message : String(error)}`;
        for (const f of missing) unfinished.set(f.messageId, why);
        return finished.filter((f): f is FinishedTask => f.record !== undefined);
      }
    }
    const ready: FinishedTask[] = [];
    for (const f of finished) {
      const record = f.record ?? rows.get(f.envelope.id);
      if (record) ready.push({ ...f, record });
      else unfinished.set(f.messageId, `the row of finished task ${f.envelope.id} was not found`);
    }
    return ready;
  }
}
