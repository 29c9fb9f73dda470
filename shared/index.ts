/**
 * Celerity: Celery's programming model on SQS, Lambda, DynamoDB and EventBridge Scheduler.
 * Each part has its own entry (`shared/task`, `shared/producer`, ...); this one gathers what
 * application code uses.
 */
export type { Wiring } from './app.ts';
export {
  asyncResult,
  createProducer,
  createResultStore,
  createWorkerRuntime,
  getProducer,
  getResultStore,
  revoke,
} from './app.ts';
export * from './aws/index.ts';
export * from './beat/index.ts';
export * from './config/index.ts';
export * from './envelope/index.ts';
export { CelerityError, ValidationError } from './errors.ts';
export type { Logger, LogLevel } from './log.ts';
export { createLogger } from './log.ts';
export * from './producer/index.ts';
export * from './results/index.ts';
export * from './task/index.ts';
export * from './worker/index.ts';
