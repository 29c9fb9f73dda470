/** Celery's `task_routes` with globs: `*` matches any run of characters, `?` one character. */
export type TaskRoutes = Readonly<Record<string, string>>;

const compiled = new WeakMap<TaskRoutes, { exact: Map<string, string>; globs: [RegExp, string][] }>();

function compile(routes: TaskRoutes) {
  let entry = compiled.get(routes);
  if (!entry) {
    const exact = new Map<string, string>();
    const globs: [RegExp, string][] = [];
    for (const [pattern, queue] of Object.entries(routes)) {
      if (/[*?]/.test(pattern)) {
        const source = pattern
          .replace(/[.+^${}()|[\]\\]/g, '\\$&')
          .replace(/\*/g, '.*')
          .replace(/\?/g, '.');
        globs.push([new RegExp(`^${source}$`), queue]);
      } else {
        exact.set(pattern, queue);
      }
    }
    entry = { exact, globs };
    compiled.set(routes, entry);
  }
  return entry;
}

/**
 * The route queue for a task: an exact route, else the first matching glob (in the order written,
 * as Celery reads its dict), else the task's own `queue` option, else the default queue.
 */
export function routeTask(
  taskName: string,
  routes: TaskRoutes,
  taskQueue: string | undefined,
  defaultQueue: string,
): string {
  const { exact, globs } = compile(routes);
  const direct = exact.get(taskName);
  if (direct) return direct;
  for (const [pattern, queue] of globs) if (pattern.test(taskName)) return queue;
  return taskQueue ?? defaultQueue;
}
