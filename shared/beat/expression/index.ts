/**
 * The one EventBridge Scheduler expression engine: reading `cron()`/`rate()`/`at()` as AWS does,
 * writing cron fields, and the runs of a schedule in its zone with AWS's daylight-saving rules.
 * `nextFireTimes` (what `celerity beat preview` shows) and the local scheduler clock both run here.
 */
export { ScheduleExpressionError } from '../errors.ts';
export type { CronSpec, DayOfMonthRule, DayOfWeekRule } from './cron.ts';
export { cronMatchesDate, MAX_YEAR, MIN_YEAR, parseCronExpression } from './cron.ts';
export { compressField, MAX_EXPRESSION_LENGTH } from './cron-text.ts';
export type { ScheduleExpression } from './expression.ts';
export { parseScheduleExpression } from './expression.ts';
export type { ScheduleTiming } from './runs.ts';
export { atInstant, nextRunAfter, runsAfter, runsOf } from './runs.ts';
