import { AsyncLocalStorage } from 'node:async_hooks';
import { InvocationAbandoned, NotInInvocation } from '../errors.ts';

/**
 * How an in-process invocation can end without returning: its container died mid-run (`crash`),
 * or Lambda stopped it at the function timeout (`timeout`).
 */
export type Abandonment = { kind: 'crash' | 'timeout'; reason: string };

const storage = new AsyncLocalStorage<LocalInvocation>();

/**
 * One invocation of a function run in-process by the local cloud. On Lambda an invocation that
 * crashes or times out stops, and with it everything it was doing; in-process its promises cannot
 * be stopped. So the invocation is carried through everything it starts (AsyncLocalStorage), and
 * once abandoned its AWS requests are refused (`fenceAbandonedInvocations`) and its log lines
 * dropped: what it would have recorded is never recorded, as on Lambda.
 */
export class LocalInvocation {
  readonly requestId: string;
  readonly functionName: string;
  /** Epoch ms of the function timeout: past it, Lambda would have stopped the run. */
  readonly deadline: number;
  #abandonment: Abandonment | undefined;
  #signalCrash: ((reason: string) => void) | undefined;
  /** Settles when the invocation crashes; never when it returns, throws or times out. */
  readonly crashed: Promise<string>;

  constructor(requestId: string, functionName: string, deadline = Number.POSITIVE_INFINITY) {
    this.requestId = requestId;
    this.functionName = functionName;
    this.deadline = deadline;
    this.crashed = new Promise((resolve) => {
      this.#signalCrash = resolve;
    });
  }

  get alive(): boolean {
    return this.abandonment === undefined;
  }

  /**
   * Why the invocation is over, if it is. Past the deadline it is, even before the poller's timer
   * has said so: a body that blocked the event loop past the timeout must not record anything
   * when it wakes up (on Lambda the process would have been stopped mid-block).
   */
  get abandonment(): Abandonment | undefined {
    if (!this.#abandonment && Date.now() > this.deadline) {
      this.#abandonment = { kind: 'timeout', reason: 'it ran past the function timeout' };
    }
    return this.#abandonment;
  }

  /** Runs `fn` as this invocation: everything it starts, now or later, belongs to it. */
  run<T>(fn: () => T): T {
    return storage.run(this, fn);
  }

  /** The first abandonment wins: a run that crashed cannot later be said to have timed out. */
  abandon(kind: Abandonment['kind'], reason: string): void {
    if (this.#abandonment) return;
    this.#abandonment = { kind, reason };
    if (kind === 'crash') this.#signalCrash?.(reason);
  }
}

/** The local-cloud invocation the caller runs in, if any. */
export function currentInvocation(): LocalInvocation | undefined {
  return storage.getStore();
}

/**
 * Crashes the invocation the caller runs in, as a container dying mid-task would (out of memory,
 * a segfault, `process.exit`): the poller ends the invocation at once, deletes none of its
 * messages (they come back after the visibility timeout), and nothing the invocation does from
 * now on reaches AWS. Never settles: the caller's code stops here. For chaos and fault tests.
 */
export function crashInvocation(reason = 'its container died'): Promise<never> {
  const invocation = storage.getStore();
  if (!invocation) return Promise.reject(new NotInInvocation());
  invocation.abandon('crash', reason);
  return new Promise<never>(() => undefined);
}

interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (next: (args: unknown) => Promise<unknown>) => (args: unknown) => Promise<unknown>,
      options: { step: 'initialize'; name: string; priority: 'high'; override: boolean },
    ): void;
  };
}

/** Makes the clients refuse every request sent by an abandoned invocation. */
export function fenceAbandonedInvocations(...clients: unknown[]): void {
  for (const client of clients) {
    (client as MiddlewareClient).middlewareStack.add(
      (next) => async (args) => {
        const invocation = storage.getStore();
        const gone = invocation?.abandonment;
        if (invocation && gone) throw new InvocationAbandoned(invocation.requestId, gone.reason);
        return next(args);
      },
      { step: 'initialize', name: 'celerityInvocationFence', priority: 'high', override: true },
    );
  }
}

/**
 * A line writer that writes nothing for an abandoned invocation: a dead container writes no more
 * lines. The local cloud sets it as the process's log writer, so the lines of every function it
 * loaded (their loggers made at import) are gated, whatever logger wrote them.
 */
export function silentWhenAbandoned(write: (line: string) => void): (line: string) => void {
  return (line) => {
    if (storage.getStore()?.alive !== false) write(line);
  };
}
