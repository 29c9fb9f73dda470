/** Celery's task states, with their names, as they appear in the results table. */
export const TaskState = {
  PENDING: 'PENDING',
  STARTED: 'STARTED',
  RETRY: 'RETRY',
  SUCCESS: 'SUCCESS',
  FAILURE: 'FAILURE',
  REVOKED: 'REVOKED',
} as const;

export type TaskState = (typeof TaskState)[keyof typeof TaskState];

/** States after which a task never runs again (Celery's `READY_STATES`). */
export const READY_STATES: ReadonlySet<TaskState> = new Set([
  TaskState.SUCCESS,
  TaskState.FAILURE,
  TaskState.REVOKED,
]);
