/** Celery's task states, with their names, as they appear in the results table. */
export const TaskState = {
  PENDING: 'PENDING',
  STARTED: 'STARTED',
  RETRY: 'RETRY',
  SUCCESS: 'SUCCESS',
  FAILURE: 'FAILURE',
  REVOKED: 'REVOKED',
} as const;

/** One of Celery's six states. */
export type BuiltinState = (typeof TaskState)[keyof typeof TaskState];

/**
 * A task's state: one of Celery's six, or a custom one a running task set with
 * `ctx.updateState({ state: 'PROGRESS' })` (Celery's `update_state`). `string & {}` keeps the six
 * names offered by editors while any custom name type-checks.
 */
export type TaskState = BuiltinState | (string & {});

/** The six names, for validating input that may only name them. */
export const BUILTIN_STATES: readonly BuiltinState[] = Object.values(TaskState);

/** States after which a task never runs again (Celery's `READY_STATES`). */
export const READY_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  TaskState.SUCCESS,
  TaskState.FAILURE,
  TaskState.REVOKED,
]);

/**
 * A custom state's name: a letter, then letters, digits and `_ . : -`, at most 64 in all. No
 * `#` (the listing indexes key rows by `<state>#<shard>`) and nothing a shell or URL would mangle.
 */
export const CUSTOM_STATE_PATTERN = /^[A-Za-z][A-Za-z0-9_.:-]{0,63}$/;

/**
 * States `ctx.updateState` refuses: the ready ones (a run's outcome is its return or its error)
 * and RETRY and PENDING (Celery reads a RETRY's result as an exception; PENDING means unknown).
 */
export const NOT_SETTABLE_STATES: ReadonlySet<TaskState> = new Set<TaskState>([
  ...READY_STATES,
  TaskState.RETRY,
  TaskState.PENDING,
]);
