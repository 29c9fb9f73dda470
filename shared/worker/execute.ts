import type { Envelope } from '../envelope/schema.ts';
import { exceptionTypeOf } from '../errors.ts';
import { createTaskContext, type StateWriter, type TaskRequest } from '../task/context.ts';
import {
  MaxRetriesExceeded,
  Reject,
  Retry,
  SoftTimeLimitExceeded,
  TimeLimitExceeded,
} from '../task/errors.ts';
import type { RegisteredTask } from '../task/registry.ts';
import { matchesAny, retryCountdown } from './retry-policy.ts';

/** What one run of a task came to; the runtime turns it into a state and maybe a new message. */
export type RunOutcome =
  | { kind: 'success'; result: unknown; runtimeMs: number }
  | { kind: 'retry'; countdown: number; error: unknown; runtimeMs: number }
  | { kind: 'failure'; error: unknown; runtimeMs: number };

export interface ExecuteOptions {
  request: TaskRequest;
  args: readonly unknown[];
  kwargs: Record<string, unknown>;
  /**
   * Epoch ms by which the run must be given up whatever its own limit: the invocation's end, less
   * the time needed to record the outcome.
   */
  deadline?: number;
  /**
   * Aborted when the invocation nears its end: the body sees it on `ctx.signal` beside the soft
   * limit (its reason tells which), so a cooperative body stops before it is abandoned.
   */
  signal?: AbortSignal;
  random?: () => number;
  /** Where `ctx.updateState` writes; without it updates are checked and kept nowhere (eager runs). */
  writeState?: StateWriter;
  /** This call's own limits (Celery's `time_limit`/`soft_time_limit`): they only shorten the task's. */
  limits?: { timeLimit?: number; softTimeLimit?: number };
}

/** What `ctx.request` shows a body: the envelope's fields and how this run came to be. */
export function taskRequest(
  envelope: Envelope,
  run: Pick<TaskRequest, 'retries' | 'deliveryCount' | 'isEager'>,
): TaskRequest {
  return {
    id: envelope.id,
    task: envelope.task,
    eta: envelope.eta,
    expires: envelope.expires,
    origin: envelope.origin,
    parentId: envelope.parentId,
    rootId: envelope.rootId,
    periodicTask: envelope.periodicTask,
    queue: envelope.queue,
    ...run,
  };
}

/**
 * The limits a run gets: a call's own may shorten the task's, never lengthen them, since the
 * function's timeout (and so the hard stop) derives from the task's.
 */
export function effectiveLimits(
  task: { timeLimit: number; softTimeLimit?: number | undefined },
  call: { timeLimit?: number | undefined; softTimeLimit?: number | undefined } = {},
): { timeLimit: number; softTimeLimit: number | undefined } {
  const soft = [task.softTimeLimit, call.softTimeLimit].filter((s): s is number => s !== undefined);
  return {
    timeLimit: Math.min(task.timeLimit, call.timeLimit ?? Number.POSITIVE_INFINITY),
    softTimeLimit: soft.length > 0 ? Math.min(...soft) : undefined,
  };
}

/**
 * Runs a task body under its soft and hard time limits and decides its fate: success, retry (by
 * `ctx.retry()` or `autoretryFor`, within `maxRetries`), or failure.
 */
export async function executeTask(task: RegisteredTask, options: ExecuteOptions): Promise<RunOutcome> {
  const { timeLimit, softTimeLimit } = effectiveLimits(task.options, options.limits);
  const started = performance.now();
  const startedAt = Date.now();
  const hardAt = Math.min(startedAt + timeLimit * 1000, options.deadline ?? Number.POSITIVE_INFINITY);
  const controller = new AbortController();
  const timers: NodeJS.Timeout[] = [];
  if (softTimeLimit !== undefined && startedAt + softTimeLimit * 1000 < hardAt) {
    timers.push(
      setTimeout(() => controller.abort(new SoftTimeLimitExceeded(softTimeLimit)), softTimeLimit * 1000),
    );
  }
  let hardTimer: NodeJS.Timeout | undefined;
  const hardLimit = new Promise<never>((_, reject) => {
    hardTimer = setTimeout(
      () => {
        const error = new TimeLimitExceeded(Math.round((hardAt - startedAt) / 100) / 10);
        // The body cannot be killed in-process; aborting lets a cooperative one stop its work.
        if (!controller.signal.aborted) controller.abort(error);
        reject(error);
      },
      Math.max(0, hardAt - startedAt),
    );
  });
  const signal = options.signal ? AbortSignal.any([controller.signal, options.signal]) : controller.signal;
  const ctx = createTaskContext(options.request, options.kwargs, signal, options.writeState);
  try {
    const result = await Promise.race([
      Promise.resolve().then(() => task.handler(ctx, ...options.args)),
      hardLimit,
    ]);
    return { kind: 'success', result, runtimeMs: performance.now() - started };
  } catch (error) {
    return decide(task, options, error, performance.now() - started);
  } finally {
    for (const timer of timers) clearTimeout(timer);
    clearTimeout(hardTimer);
  }
}

function decide(
  task: RegisteredTask,
  options: ExecuteOptions,
  error: unknown,
  runtimeMs: number,
): RunOutcome {
  // Celery's hard limit kills the process; nothing in the task gets to ask for a retry.
  if (error instanceof TimeLimitExceeded || error instanceof Reject)
    return { kind: 'failure', error, runtimeMs };
  const retries = options.request.retries;
  const explicit = error instanceof Retry ? error : undefined;
  if (!explicit && !matchesAny(error, task.options.autoretryFor))
    return { kind: 'failure', error, runtimeMs };
  const cause = explicit ? explicit.exc : error;
  const maxRetries = explicit?.maxRetries ?? task.options.maxRetries;
  if (retries >= maxRetries) {
    return {
      kind: 'failure',
      error: new MaxRetriesExceeded(task.name, maxRetries, cause === undefined ? undefined : { cause }),
      runtimeMs,
    };
  }
  let countdown: number;
  if (explicit?.eta) countdown = Math.max(0, (explicit.eta.getTime() - Date.now()) / 1000);
  else if (explicit?.countdown !== undefined) countdown = explicit.countdown;
  else countdown = retryCountdown(task.options, retries, options.random);
  return { kind: 'retry', countdown, error: cause ?? error, runtimeMs };
}

/**
 * Celery keeps a traceback; here the stack, with each cause beneath it. Never throws, whatever was
 * thrown (a non-Error, a proxy, getters that throw): a task's error is that task's record only.
 */
export function describeError(error: unknown): { errorType: string; traceback: string } {
  try {
    if (!(error instanceof Error)) return { errorType: 'Error', traceback: safeText(error) };
    const errorType = exceptionTypeOf(error);
    const lines: string[] = [];
    let current: unknown = error;
    for (let depth = 0; current instanceof Error && depth < 5; depth++) {
      lines.push(
        depth === 0
          ? headed(safeText(current.stack ?? `${current.name}: ${current.message}`), current.name, errorType)
          : `Caused by: ${safeText(current.stack ?? current.message)}`,
      );
      current = current.cause;
    }
    return { errorType, traceback: lines.join('\n') };
  } catch (unreadable) {
    return { errorType: 'Error', traceback: `an error that cannot be read: ${safeText(unreadable)}` };
  }
}

/** The traceback opens with the recorded type, as Celery's does (`TypeError: ...`), not the class name. */
function headed(stack: string, name: string, errorType: string): string {
  return name !== errorType && stack.startsWith(`${name}:`) ? errorType + stack.slice(name.length) : stack;
}

/** `String(value)`, or a placeholder when even that throws. */
export function safeText(value: unknown): string {
  try {
    return String(value);
  } catch {
    return '[a value that cannot be printed]';
  }
}
