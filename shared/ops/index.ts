export type { PeriodicTaskRow, SchedulePreview } from './beat.ts';
export {
  addPeriodicTask,
  describeSchedule,
  getPeriodicTask,
  listPeriodicTasks,
  periodicRow,
  periodicStore,
  previewInput,
  previewPeriodicTask,
  previewSchedule,
  removePeriodicTask,
  runPeriodicTask,
  scheduleZone,
  setPeriodicTaskEnabled,
  setupPeriodicTasks,
  updatePeriodicTask,
} from './beat.ts';
export type { PartView, TaskParts } from './canvas.ts';
export { taskParts } from './canvas.ts';
export type { OpsContext, QueueRef, WorkerInfo } from './context.ts';
export type {
  DeadLetter,
  LambdaFailure,
  RedriveReport,
  RedriveStrategy,
  SchedulerFailure,
} from './dead-letters.ts';
export { describeDeadLetter } from './dead-letters.ts';
export { peekDeadLetters, purgeQueue, redriveDeadLetters } from './dlq.ts';
export { NotFound, NotFoundError, OperationFailed, OperationFailedError } from './errors.ts';
export type { FailureQueue, FailureQueueDepth, FailureQueueKind } from './failure-queues.ts';
export { FailureQueueName, failureQueue, failureQueueDepths } from './failure-queues.ts';
export type { GroupMemberView, GroupView } from './groups.ts';
export { getGroupResult } from './groups.ts';
export type { LogEntry } from './logs.ts';
export { filterLogGroups, parseLogLine } from './logs.ts';
export type { ZonedPreview } from './periodic-edit.ts';
export { previewDraft, replacePeriodicTask, zonedIso } from './periodic-edit.ts';
export type { QueueCounts, QueueDepth } from './queues.ts';
export { deadLetterQueueOf, queueCounts, queueDepths, routeQueue } from './queues.ts';
export type { RegisteredTaskInfo } from './registered.ts';
export { registeredTasks } from './registered.ts';
export type { ReplayDryRun, ReplayFilter, ReplayReport, Resent, Skipped } from './replay.ts';
export { MAX_REPLAY, replayFailures, retryTask } from './replay.ts';
export type { ScheduledSend } from './scheduled.ts';
export { scheduledCounts, scheduledSendsOf } from './scheduled.ts';
export type { TaskStats } from './stats.ts';
export { MAX_STATS_NAMES, taskStats } from './stats.ts';
export type { Revoked, TaskView } from './tasks.ts';
export {
  activeTasks,
  applyTask,
  getTaskResult,
  listTaskResults,
  producer,
  resultStore,
  revokeTask,
  sendTask,
  sendTasks,
  taskView,
  waitForResult,
} from './tasks.ts';
export type { QueueOverview } from './workers.ts';
export { queueOverview, WORKERS_ENV, workersFromEnv } from './workers.ts';
