import type { StateWriter } from '../task/context.ts';
import { executeTask, type RunOutcome, taskRequest } from './execute.ts';
import type { Work } from './work.ts';

/** Why a record comes back when the invocation ended before its run did. */
export const ENDING = 'the invocation was ending before its run finished';

/** A run's outcome and when its body started (for the queue-wait metric), or why it has none. */
export type Ran = { outcome: RunOutcome; startedAt: number } | 'deferred' | 'interrupted';

/** The invocation's end as a batch sees it: its signal, and a promise that settles when it aborts. */
export interface Ending {
  signal: AbortSignal | undefined;
  /** Settles once `signal` aborts; never without one. */
  interrupted: Promise<'interrupted'>;
  /** Removes the listener: one per batch, however many runs it has. */
  release(): void;
}

export function invocationEnding(signal: AbortSignal | undefined): Ending {
  if (!signal) return { signal, interrupted: new Promise(() => {}), release() {} };
  let onAbort = () => {};
  const interrupted = new Promise<'interrupted'>((resolve) => {
    onAbort = () => resolve('interrupted');
  });
  if (signal.aborted) onAbort();
  else signal.addEventListener('abort', onAbort, { once: true });
  return { signal, interrupted, release: () => signal.removeEventListener('abort', onAbort) };
}

/**
 * One claimed run: its body under its time limits, with the invocation's end on `ctx.signal`
 * beside the soft limit. A run is put off when its rate-limit window has passed, not started once
 * the invocation is ending, and left behind (its record given back) when still going at the end.
 */
export async function runWork(w: Work, ending: Ending, writeState?: StateWriter): Promise<Ran> {
  const startedAt = Date.now();
  if (w.windowEnd !== undefined && startedAt >= w.windowEnd) return 'deferred';
  if (ending.signal?.aborted) return 'interrupted';
  const { envelope } = w;
  try {
    const run = executeTask(w.task, {
      request: taskRequest(envelope, {
        retries: envelope.retries,
        deliveryCount: Number(w.record.attributes?.ApproximateReceiveCount ?? 1),
        isEager: false,
      }),
      args: envelope.args,
      kwargs: envelope.kwargs,
      signal: ending.signal,
      limits: { timeLimit: envelope.timeLimit, softTimeLimit: envelope.softTimeLimit },
      ...(writeState ? { writeState } : {}),
    });
    const outcome = await Promise.race([run, ending.interrupted]);
    return outcome === 'interrupted' ? outcome : { outcome, startedAt };
  } catch (error) {
    // What a body threw confused the executor itself (a proxy, a getter that throws): still a failure of this run.
    return { outcome: { kind: 'failure', error, runtimeMs: Date.now() - startedAt }, startedAt };
  }
}
