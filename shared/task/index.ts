export type { RetryOptions, StateUpdate, TaskContext, TaskRequest } from './context.ts';
export { MAX_STATE_META_BYTES } from './context.ts';
export type { ApplyOptions } from './define.ts';
export { defineTask, sendMany, Task } from './define.ts';
export {
  MaxRetriesExceeded,
  NotRegistered,
  Reject,
  Retry,
  SoftTimeLimitExceeded,
  TimeLimitExceeded,
} from './errors.ts';
export type { ArgsSchema, ErrorMatcher, RateLimit, ResolvedTaskOptions, TaskOptions } from './options.ts';
export {
  INVOCATION_OVERHEAD_SECONDS,
  MAX_TIME_LIMIT_SECONDS,
  parseRateLimit,
  resolveTaskOptions,
} from './options.ts';
export type { RegisteredTask, TaskHandler } from './registry.ts';
export { defaultRegistry, TASK_NAME_PATTERN, TaskRegistry } from './registry.ts';
export type { TaskRoutes } from './routing.ts';
export { routeTask } from './routing.ts';
export type { BuiltinState } from './states.ts';
export { READY_STATES, TaskState } from './states.ts';
export { validateArgs } from './validate-args.ts';
