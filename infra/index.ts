/**
 * `celerity/infra`: the CDK constructs, for a stack of your own. `CelerityStack` composes them
 * (a queue, DLQ and worker per route, the result tables, delayed delivery, Beat, monitoring) and
 * writes the outputs `shared/config/stack-outputs.ts` names, which the CLI reads.
 */

export {
  RouteOutput,
  readStackOutputs,
  routeOutputKey,
  StackOutput,
} from '../shared/config/stack-outputs.ts';
export type { BeatProps } from './constructs/beat.ts';
export { Beat } from './constructs/beat.ts';
export type { DelayedDeliveryProps } from './constructs/delays.ts';
export { DelayedDelivery } from './constructs/delays.ts';
export type { MonitoringOptions, MonitoringProps } from './constructs/monitoring.ts';
export { MONITORING_DEFAULTS, Monitoring } from './constructs/monitoring.ts';
export type { ResultsProps } from './constructs/results.ts';
export { Results } from './constructs/results.ts';
export type { TaskQueueProps } from './constructs/task-queue.ts';
export { TaskQueue } from './constructs/task-queue.ts';
export type { CelerityStackProps, TaskQueueTuning } from './stack.ts';
export { CelerityStack } from './stack.ts';
