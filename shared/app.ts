/**
 * The wiring of the process-wide defaults: configuration, clients and registry become a producer,
 * a result store, a worker and Beat's store and sync. Everything here can also be built by hand
 * with other parts. It is split by who needs it, so that a bundle carries only its own side:
 * `app-producer.ts` (sending and results: `task.delay()`), `app-worker.ts` (the worker) and
 * `app-beat.ts` (the periodic-tasks table and its sync).
 */
export { createBeatSync, createPeriodicTaskStore } from './app-beat.ts';
export * from './app-producer.ts';
export { createWorkerRuntime } from './app-worker.ts';
