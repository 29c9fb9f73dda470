import { asyncResult, getProducer } from '../app-producer.ts';
import { getConfig } from '../config/config.ts';
import type { AsyncResult } from '../producer/async-result.ts';
import type { TaskCall } from '../producer/call.ts';
import { runEager } from '../worker/eager.ts';
import { type ResolvedTaskOptions, resolveTaskOptions, type TaskOptions } from './options.ts';
import { defaultRegistry, type RegisteredTask, type TaskHandler, type TaskRegistry } from './registry.ts';

/** `applyAsync`'s options: Celery's `apply_async` keywords, camelCased. */
export type ApplyOptions<A extends unknown[]> = Omit<TaskCall, 'task' | 'args'> & { args?: A };

/** A task: what `@shared_task` makes in Celery. */
export class Task<A extends unknown[] = unknown[], R = unknown> implements RegisteredTask {
  readonly name: string;
  readonly options: ResolvedTaskOptions;
  readonly handler: TaskHandler<A, R>;

  constructor(name: string, handler: TaskHandler<A, R>, options: TaskOptions = {}) {
    this.name = name;
    this.handler = handler;
    this.options = resolveTaskOptions(name, options);
  }

  /** Sends the task with these positional args (Celery's `delay`). */
  delay(...args: A): Promise<AsyncResult<Awaited<R>>> {
    return this.applyAsync({ args });
  }

  /** Sends the task with every option of Celery's `apply_async`. */
  async applyAsync(options: ApplyOptions<A> = {}): Promise<AsyncResult<Awaited<R>>> {
    const call = this.s(options);
    if (getConfig().alwaysEager) return runEager<Awaited<R>>(this as RegisteredTask, call);
    const sent = await getProducer().send(call);
    return asyncResult<Awaited<R>>(sent.taskId);
  }

  /** A call of this task, to send later or in a batch (Celery's signature, `task.s()`). */
  s(options: ApplyOptions<A> = {}): TaskCall {
    return { ...options, task: this.name };
  }

  /** Sends one message per args list, in batches (fan-out, such as bulk notifications). */
  async delayMany(argsLists: readonly A[]): Promise<AsyncResult<Awaited<R>>[]> {
    return sendMany<Awaited<R>>(argsLists.map((args) => this.s({ args })));
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
 */
export function defineTask<A extends unknown[], R>(
  name: string,
  handler: TaskHandler<A, R>,
  options: TaskOptions = {},
  registry: TaskRegistry = defaultRegistry,
): Task<A, R> {
  const task = new Task(name, handler, options);
  registry.register(task as unknown as RegisteredTask);
  return task;
}

/** Sends many calls, of any tasks, with `SendMessageBatch` (Celery's `group(...).apply_async()`). */
export async function sendMany<R = unknown>(calls: readonly TaskCall[]): Promise<AsyncResult<R>[]> {
  if (getConfig().alwaysEager) {
    const results: AsyncResult<R>[] = [];
    for (const call of calls) results.push(await runEager<R>(defaultRegistry.require(call.task), call));
    return results;
  }
  const sent = await getProducer().sendMany(calls);
  return sent.map((s) => asyncResult<R>(s.taskId));
}
