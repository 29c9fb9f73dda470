import { ValidationError } from '../errors.ts';
import type { TaskContext } from './context.ts';
import { NotRegistered } from './errors.ts';
import type { ResolvedTaskOptions } from './options.ts';

/** Celery's dotted task names: `apps.notifications.tasks.send_email_notification`. */
export const TASK_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)*$/;

// biome-ignore lint/suspicious/noExplicitAny: a handler's argument types are its own business
export type TaskHandler<A extends unknown[] = any[], R = unknown> = (
  ctx: TaskContext,
  ...args: A
) => R | Promise<R>;

/** What the registry and the worker need of a task, whatever its argument types. */
export interface RegisteredTask {
  readonly name: string;
  readonly options: ResolvedTaskOptions;
  readonly handler: TaskHandler;
}

export class TaskRegistry {
  readonly #tasks = new Map<string, RegisteredTask>();

  register(task: RegisteredTask): void {
    if (!TASK_NAME_PATTERN.test(task.name)) {
      throw ValidationError.of(
        'name',
        `${JSON.stringify(task.name)} is not a dotted task name like apps.module.tasks.do_thing`,
      );
    }
    const existing = this.#tasks.get(task.name);
    if (existing && existing !== task) {
      throw ValidationError.of('name', `task ${task.name} is already registered`);
    }
    this.#tasks.set(task.name, task);
  }

  get(name: string): RegisteredTask | undefined {
    return this.#tasks.get(name);
  }

  require(name: string): RegisteredTask {
    const task = this.#tasks.get(name);
    if (!task) throw new NotRegistered(name);
    return task;
  }

  has(name: string): boolean {
    return this.#tasks.has(name);
  }

  /** Every task, sorted by name (Celery's `inspect registered`). */
  list(): RegisteredTask[] {
    return [...this.#tasks.values()].sort((a, b) => a.name.localeCompare(b.name));
  }

  unregister(name: string): void {
    this.#tasks.delete(name);
  }
}

/** The registry `defineTask` writes to, like Celery's `shared_task` registering on the current app. */
export const defaultRegistry = new TaskRegistry();
