import { asyncResult, getProducer } from '../app-producer.ts';
import {
  callOfSignature,
  isSignatureCall,
  Signature,
  type SignatureCall,
  type SignatureLike,
  type SignedTask,
  signatureJsonList,
} from '../canvas/signature.ts';
import { getConfig } from '../config/config.ts';
import type { AsyncResult } from '../producer/async-result.ts';
import type { TaskCall } from '../producer/call.ts';
import { runEager } from '../worker/eager.ts';
import { type ResolvedTaskOptions, resolveTaskOptions, type TaskOptions } from './options.ts';
import { defaultRegistry, type RegisteredTask, type TaskHandler, type TaskRegistry } from './registry.ts';

/** `defineTask`'s options: the task's own (Celery's task options) and where it is registered. */
export type DefineTaskOptions = TaskOptions & {
  /** The registry the task joins (and its sends are checked against). @defaultValue `defaultRegistry` */
  registry?: TaskRegistry;
};

/** `applyAsync`'s options: Celery's `apply_async` keywords, camelCased. */
export type ApplyOptions<A extends unknown[]> = Omit<TaskCall, 'task' | 'args' | 'link' | 'linkError'> & {
  args?: A;
  /** Sent when this task succeeds, its result prepended to mutable ones (Celery's `link`). */
  link?: SignatureLike | readonly SignatureLike[];
  /** Sent when it fails for good, its id as their first argument (Celery's `link_error`). */
  linkError?: SignatureLike | readonly SignatureLike[];
};

/** The args of a partial signature: all of them, or the last ones (a chain puts the result first). */
export type PartialArgs<A extends unknown[]> =
  | A
  | (A extends [unknown, ...infer Rest] ? PartialArgs<Rest> : never);

/** A task: what `@shared_task` makes in Celery. */
export class Task<A extends unknown[] = unknown[], R = unknown> implements RegisteredTask {
  readonly name: string;
  readonly options: ResolvedTaskOptions;
  readonly handler: TaskHandler<A, R>;
  /** The registry it belongs to: its sends are routed and checked with its options from there. */
  readonly registry: TaskRegistry;

  constructor(name: string, handler: TaskHandler<A, R>, options: DefineTaskOptions = {}) {
    const { registry = defaultRegistry, ...taskOptions } = options;
    this.name = name;
    this.handler = handler;
    this.registry = registry;
    this.options = resolveTaskOptions(name, taskOptions);
  }

  /** Sends the task with these positional args (Celery's `delay`). */
  delay(...args: A): Promise<AsyncResult<Awaited<R>>> {
    return this.applyAsync({ args });
  }

  /** Sends the task with every option of Celery's `apply_async`. */
  applyAsync(options: ApplyOptions<A> = {}): Promise<AsyncResult<Awaited<R>>> {
    return this.#send(this.#call(options));
  }

  async #send(call: TaskCall): Promise<AsyncResult<Awaited<R>>> {
    if (getConfig().alwaysEager) return runEagerCall<Awaited<R>>(this.registry, call);
    const sent = await getProducer(this.registry).send(call);
    return asyncResult<Awaited<R>>(sent.taskId);
  }

  #call(options: ApplyOptions<A>): TaskCall {
    const { link, linkError, ...rest } = options;
    const ids = new Map();
    const links = signatureJsonList(link, ids);
    const errbacks = signatureJsonList(linkError, ids);
    return {
      ...rest,
      task: this.name,
      ...(links.length > 0 ? { link: links } : {}),
      ...(errbacks.length > 0 ? { linkError: errbacks } : {}),
    };
  }

  /**
   * A signature of this task (Celery's `task.s(...)`): positional args, or one object of args,
   * kwargs and options (`task.s({ args, kwargs, countdown })`). To send one object as the only
   * argument when it looks like options, use `task.signature({ args: [obj] })`.
   */
  s(call: SignatureCall<PartialArgs<A>>): Signature<Awaited<R>>;
  s(...args: PartialArgs<A>): Signature<Awaited<R>>;
  s(...args: unknown[]): Signature<Awaited<R>> {
    return this.signature((isSignatureCall(args) ? args[0] : { args }) as SignatureCall<A>);
  }

  /** An immutable signature (Celery's `task.si(...)`): a parent's result is not passed to it. */
  si(call: SignatureCall<A>): Signature<Awaited<R>>;
  si(...args: A): Signature<Awaited<R>>;
  si(...args: unknown[]): Signature<Awaited<R>> {
    return this.signature({
      ...(isSignatureCall(args) ? args[0] : { args }),
      immutable: true,
    } as SignatureCall<A>);
  }

  /** A signature of this task from its args, kwargs and options (Celery's `task.signature(...)`). */
  signature(call: SignatureCall<PartialArgs<A>> = {}): Signature<Awaited<R>> {
    const task: SignedTask<Awaited<R>> = {
      name: this.name,
      registry: this.registry,
      applyAsync: (options) => this.#send({ ...options, task: this.name }),
      result: (taskId) => this.result(taskId),
    };
    return new Signature(task, call as SignatureCall);
  }

  /** Sends one message per args list, in batches (fan-out, such as bulk notifications). */
  async delayMany(argsLists: readonly A[]): Promise<AsyncResult<Awaited<R>>[]> {
    return sendMany<Awaited<R>>(
      argsLists.map((args) => this.#call({ args })),
      this.registry,
    );
  }

  /** A handle on one of this task's results by id. */
  result(taskId: string): AsyncResult<Awaited<R>> {
    return asyncResult<Awaited<R>>(taskId);
  }
}

/**
 * Defines and registers a task under Celery's dotted name:
 *
 * ```ts
 * export const sendEmail = defineTask(
 *   'apps.notifications.tasks.send_email_notification',
 *   async (ctx, userId: string, subject: string) => { ... },
 *   { maxRetries: 5, rateLimit: '10/m' },
 * );
 * await sendEmail.delay('u-1', 'Welcome');
 * ```
 *
 * `options.registry` registers it elsewhere than `defaultRegistry` (a test's own, or a second app's).
 * The fourth argument is the older spelling of it.
 */
export function defineTask<A extends unknown[], R>(
  name: string,
  handler: TaskHandler<A, R>,
  options: DefineTaskOptions = {},
  /** @deprecated use `options.registry` */
  registry?: TaskRegistry,
): Task<A, R> {
  const task = new Task(name, handler, registry && !options.registry ? { ...options, registry } : options);
  task.registry.register(task as unknown as RegisteredTask);
  return task;
}

/**
 * Runs a call inline, then its links with its result (or its errbacks with its id), inline too,
 * as Celery's eager `apply` does. A chain runs its parts itself (`Chain.applyAsync`).
 */
async function runEagerCall<R>(registry: TaskRegistry, call: TaskCall): Promise<AsyncResult<R>> {
  const result = await runEager<R>(registry.require(call.task), call);
  const ok = result.state === 'SUCCESS';
  const first = { value: ok ? result.result : result.id };
  for (const sig of (ok ? call.link : call.linkError) ?? [])
    await runEagerCall(registry, { ...callOfSignature(sig, first), task: sig.task });
  return result;
}

/**
 * Sends many calls, of any tasks, with `SendMessageBatch` (Celery's `group(...).apply_async()`);
 * `registry` is where their tasks are found (to route and check them, or to run them eagerly).
 */
export async function sendMany<R = unknown>(
  callsOrSignatures: readonly (TaskCall | Signature)[],
  registry: TaskRegistry = defaultRegistry,
): Promise<AsyncResult<R>[]> {
  const calls = callsOrSignatures.map((c) => (c instanceof Signature ? c.toCall() : c));
  if (getConfig().alwaysEager) {
    const results: AsyncResult<R>[] = [];
    for (const call of calls) results.push(await runEagerCall<R>(registry, call));
    return results;
  }
  const sent = await getProducer(registry).sendMany(calls);
  return sent.map((s) => asyncResult<R>(s.taskId));
}
