import { fromZodIssues } from '../errors.ts';
import { UnexpectedKeywordArgumentError } from './errors.ts';
import type { RegisteredTask } from './registry.ts';

/**
 * Checks a call's args and kwargs against the task's schemas, naming the field that is wrong. A
 * `kwargsSchema` that is an object schema lists the keywords the task takes: any other is a
 * `TypeError`, as in Celery (zod would silently strip it). A task without one takes any kwargs.
 */
export function validateArgs(task: RegisteredTask, args: unknown, kwargs: unknown, field = 'call'): void {
  const { argsSchema, kwargsSchema } = task.options;
  if (argsSchema) {
    const parsed = argsSchema.safeParse(args);
    if (!parsed.success) throw fromZodIssues(`${field}.args`, parsed.error.issues);
  }
  if (kwargsSchema) {
    const parsed = kwargsSchema.safeParse(kwargs);
    if (!parsed.success) throw fromZodIssues(`${field}.kwargs`, parsed.error.issues);
    const { shape, _zod } = kwargsSchema as { shape?: unknown; _zod?: { def?: { catchall?: unknown } } };
    // A loose object (zod's catchall) takes other keywords too, like Python's `**kwargs`.
    const open = _zod?.def?.catchall !== undefined;
    if (!open && shape && typeof shape === 'object' && kwargs && typeof kwargs === 'object') {
      const unexpected = Object.keys(kwargs).filter((key) => !Object.hasOwn(shape, key));
      if (unexpected.length > 0) throw new UnexpectedKeywordArgumentError(task.name, unexpected);
    }
  }
}
