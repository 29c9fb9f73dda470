/**
 * The worker's CloudWatch metrics (written as Embedded Metric Format log lines, no API calls) and
 * the names the stack's alarms and dashboard read them by: one place, so the two cannot drift.
 */
export const WorkerMetrics = {
  namespace: 'Celerity',
  /** Dimension sets written: `[Queue]` and `[Queue, Task]`. */
  dimensions: { queue: 'Queue', task: 'Task' },
  /** Counts of runs that ended in each state, per batch. */
  succeeded: 'TasksSucceeded',
  failed: 'TasksFailed',
  retried: 'TasksRetried',
  revoked: 'TasksRevoked',
  /** Milliseconds a body ran. */
  runtime: 'TaskRuntime',
  /** Milliseconds from the message's send (or its eta) to the run's start. */
  queueWait: 'TaskQueueWait',
} as const;
