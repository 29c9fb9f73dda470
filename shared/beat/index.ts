export type { CrontabField, CrontabSets, CrontabSpec } from './crontab.ts';
export { CRONTAB_FIELDS, parseCrontab, parseCrontabField } from './crontab.ts';
export { DEFAULT_PERIODIC_TASKS, defaultPeriodicTasks } from './defaults.ts';
export type {
  ClockedSchedule,
  CrontabSchedule,
  IntervalSchedule,
  Period,
  PeriodicTask,
  PeriodicTaskInput,
  ScheduleKind,
  SolarEvent,
  SolarSchedule,
} from './definition.ts';
export { PERIODS, periodicTaskSchema, SCHEDULE_KINDS, SOLAR_EVENTS, scheduleKind } from './definition.ts';
export * from './errors.ts';
export type { ScheduleExpression, ScheduleTiming } from './expression/index.ts';
export { nextRunAfter, runsAfter } from './expression/index.ts';
export type { DayGuard } from './guard.ts';
export { guardAllows } from './guard.ts';
export type { Expansion, RatePlan } from './interval.ts';
export { expansionOffsets, intervalSeconds, MAX_DELAY_SECONDS, ratePlan } from './interval.ts';
export type { ParseOptions } from './model.ts';
export { parsePeriodicTask } from './model.ts';
export { SCHEDULE_NAME_MAX, SCHEDULE_NAME_PATTERN, scheduleName } from './naming.ts';
export type { NextFireOptions } from './next-fire.ts';
export { nextFireTimes } from './next-fire.ts';
export type { BeatEnvelopeField, ScheduleRequest, ScheduleTarget } from './schedule-input.ts';
export {
  beatEnvelopeFieldSchema,
  EXECUTION_ID,
  envelopeInput,
  RETRY_POLICY,
  renderInput,
  SCHEDULED_TIME,
  scheduleDescription,
  scheduleRequest,
} from './schedule-input.ts';
export { nextSolarEvent, SOLAR_SEARCH_DAYS } from './solar.ts';
export type { PeriodicTaskStoreOptions, RunRecord, StoredPeriodicTask } from './store.ts';
export { DEFINITION_WRITE, definitionFromItem, LIST_INDEX, PeriodicTaskStore } from './store.ts';
export type { BeatSyncOptions, ReconcileReport } from './sync.ts';
export { BeatSync } from './sync.ts';
export type { ActualSchedule, ScheduleDiff, ScheduleRelevantField, SyncAction } from './sync-plan.ts';
export {
  changedFields,
  diffSchedules,
  planSync,
  RUN_STATS_MARKER,
  SCHEDULE_RELEVANT_FIELDS,
  scheduleDifferences,
  streamFilterPatterns,
} from './sync-plan.ts';
export type { BeatTarget } from './target.ts';
export { beatTarget } from './target.ts';
export type { SchedulePlan, TranslateOptions } from './translate.ts';
export { translate, translateCrontab } from './translate.ts';
export { timeZoneProblem } from './zoned-time.ts';
