/**
 * `celerity`: what application code imports to define tasks, send them and read their results
 * (Celery's `@shared_task`, `delay`, `AsyncResult`, `app.conf`), and the errors it may catch.
 * Only the sending side: a service that imports this bundles neither the worker's runtime nor
 * Beat. The other entries (package.json `exports`): `celerity/beat` (the periodic-tasks table),
 * `celerity/worker` (a worker of your own), `celerity/ops` (what the CLI and the admin API call),
 * `celerity/envelope` (the wire contract), `celerity/infra` (the CDK constructs).
 */
export * from './app-producer.ts';
// Groups and chords (Celery's group, chord, GroupResult; docs/canvas.md).
export { ChordResult } from './canvas/api-chord-result.ts';
export type { GroupApplyOptions, GroupPart } from './canvas/api-group.ts';
export { Chord, chord, Group, group } from './canvas/api-group.ts';
export type { GroupResultOptions } from './canvas/api-group-result.ts';
export { GroupResult } from './canvas/api-group-result.ts';
export { ChordError, GroupNotFoundError } from './canvas/chord-errors.ts';
export * from './canvas/index.ts';
export type { AppSettings, CelerityConfig, CelerityConfigInput } from './config/config.ts';
export { configure, getConfig, resetConfig } from './config/config.ts';
export { CelerityError, ValidationError } from './errors.ts';
export type { GetOptions } from './producer/async-result.ts';
export { AsyncResult } from './producer/async-result.ts';
export type { TaskCall } from './producer/call.ts';
// What sending and waiting may throw, and what a send returns.
export * from './producer/errors.ts';
export type { TaskResultRecord } from './results/record.ts';
export type { RetryOptions, TaskContext, TaskRequest } from './task/context.ts';
export type { ApplyOptions, DefineTaskOptions } from './task/define.ts';
export { defineTask, sendMany, Task } from './task/define.ts';
// Every error a task may throw or catch (Retry, Reject, the time limits, ...).
export * from './task/errors.ts';
export type { ArgsSchema, ErrorMatcher, TaskOptions } from './task/options.ts';
export type { TaskHandler } from './task/registry.ts';
export { defaultRegistry, TaskRegistry } from './task/registry.ts';
export type { TaskRoutes } from './task/routing.ts';
export { READY_STATES, TaskState } from './task/states.ts';
