import { fromZodIssues } from '../errors.ts';
import type { RegisteredTask } from './registry.ts';

/** Checks a call's args and kwargs against the task's schemas, naming the field that is wrong. */
export function validateArgs(task: RegisteredTask, args: unknown, kwargs: unknown, field = 'call'): void {
  const { argsSchema, kwargsSchema } = task.options;
  if (argsSchema) {
    const parsed = argsSchema.safeParse(args);
    if (!parsed.success) throw fromZodIssues(`${field}.args`, parsed.error.issues);
  }
  if (kwargsSchema) {
    const parsed = kwargsSchema.safeParse(kwargs);
    if (!parsed.success) throw fromZodIssues(`${field}.kwargs`, parsed.error.issues);
  }
}
