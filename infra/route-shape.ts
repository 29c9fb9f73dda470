import { Duration } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import { fromZodIssues } from '../shared/errors.ts';
import * as z from '../shared/schema.ts';
import type { RegisteredTask } from '../shared/task/registry.ts';

/**
 * A route whose longest task may run longer than this is heavy: one of its runs can take most of
 * an invocation, so it cannot share one with a batch of others (Celery's answer is a separate
 * worker with low concurrency). Ten minutes keeps LabControl's notification jobs (600 s limits,
 * mostly waiting on DynamoDB) light and `process_large_file` (870 s, CPU-bound) heavy.
 */
export const HEAVY_TIME_LIMIT_SECONDS = 600;

/** One full vCPU: Lambda allots CPU in proportion to memory, and 1,769 MB is where one vCPU is reached. */
export const ONE_VCPU_MEMORY_MB = 1769;

/** How a route's queue is drained: the worker's size and the event source mapping's batching. */
export interface RouteShape {
  /** The worker's memory (and so its CPU share), MB. */
  readonly memorySize: number;
  /** Messages per invocation. */
  readonly batchSize: number;
  /** How long the mapping gathers a batch. */
  readonly maxBatchingWindow: Duration;
  /** Most concurrent invocations the mapping starts. */
  readonly maxConcurrency: number;
  /** Task bodies one invocation runs at once (`CELERITY_WORKER_CONCURRENCY`). */
  readonly concurrency: number;
}

/**
 * A light route, the default: short, mostly I/O-bound tasks. Batches of 100 keep AWS requests per
 * task under 0.4, and every body of a batch runs at once (they mostly wait on the network), so an
 * invocation lasts as long as its slowest task, not the sum of them.
 */
export const LIGHT_ROUTE: RouteShape = {
  memorySize: 512,
  batchSize: 100,
  maxBatchingWindow: Duration.seconds(1),
  maxConcurrency: 10,
  concurrency: 100,
};

/**
 * A heavy route: one message per invocation, run alone on one full vCPU; two bodies would halve
 * each one's CPU and push a near-limit run past its time limit, and a second message in the batch
 * would wait for the first. No batching window: there is nothing to gather. Five at once is a
 * Celery heavy worker's low concurrency, spread over invocations; raise it per route.
 */
export const HEAVY_ROUTE: RouteShape = {
  memorySize: ONE_VCPU_MEMORY_MB,
  batchSize: 1,
  maxBatchingWindow: Duration.seconds(0),
  maxConcurrency: 5,
  concurrency: 1,
};

export const durationSchema = z.custom<Duration>((value) => value instanceof Duration, 'must be a Duration');
/** A share of finished runs, above 0 and at most 1. */
export const failureRateSchema = z.number().check(z.gt(0), z.lte(1));
export const intSchema = (min: number, max: number) => z.int().check(z.gte(min), z.lte(max));
const duration = durationSchema;
const int = intSchema;

/** A route's settings, each optional: what is not given is derived from the route's tasks. */
const routeTuningSchema = z.strictObject({
  /** Lambda's range. */
  memorySize: z.optional(int(128, 10_240)),
  /** SQS event source limit for a standard queue. */
  batchSize: z.optional(int(1, 10_000)),
  maxBatchingWindow: z.optional(duration),
  /** The event source mapping's range. */
  maxConcurrency: z.optional(int(2, 1000)),
  concurrency: z.optional(int(1, 10_000)),
  maxReceiveCount: z.optional(int(1, 1000)),
  logRetention: z.optional(z.enum(RetentionDays)),
  /** The oldest-message age past which the route's tasks count as stuck. */
  stuckTaskAge: z.optional(duration),
  /** The share of finished runs that failed, 0–1, past which the route alarms. */
  failureRateThreshold: z.optional(failureRateSchema),
});

/** Per-route settings of the stack (`queueTuning`): the route's shape, receives, logs and alarms. */
export type RouteTuning = z.infer<typeof routeTuningSchema>;

/** The longest hard time limit of the route's tasks, 0 for a route with none. */
function longestTimeLimit(tasks: readonly RegisteredTask[]): number {
  return tasks.reduce((max, task) => Math.max(max, task.options.timeLimit), 0);
}

export function isHeavyRoute(tasks: readonly RegisteredTask[]): boolean {
  return longestTimeLimit(tasks) > HEAVY_TIME_LIMIT_SECONDS;
}

/**
 * The route's shape: the heavy or light defaults by its tasks, then what `tuning` sets. A tuning
 * that sets a smaller batch than the default concurrency brings the concurrency down with it.
 * Refuses, naming the field, values outside AWS's ranges and combinations AWS would refuse.
 */
export function routeShape(
  route: string,
  tasks: readonly RegisteredTask[],
  tuning: unknown = {},
): RouteShape & { tuning: RouteTuning } {
  const field = `queueTuning.${route}`;
  const parsed = routeTuningSchema.safeParse(tuning);
  if (!parsed.success) throw fromZodIssues(field, parsed.error.issues);
  const given = parsed.data;
  const base = isHeavyRoute(tasks) ? HEAVY_ROUTE : LIGHT_ROUTE;
  const batchSize = given.batchSize ?? base.batchSize;
  const shape = {
    memorySize: given.memorySize ?? base.memorySize,
    batchSize,
    maxBatchingWindow: given.maxBatchingWindow ?? base.maxBatchingWindow,
    maxConcurrency: given.maxConcurrency ?? base.maxConcurrency,
    concurrency: given.concurrency ?? Math.min(base.concurrency, batchSize),
  };
  const window = shape.maxBatchingWindow.toSeconds();
  const problems: { path: string[]; message: string }[] = [];
  if (window > 300) problems.push({ path: ['maxBatchingWindow'], message: 'must be at most 300 seconds' });
  if (shape.batchSize > 10 && window === 0) {
    problems.push({ path: ['batchSize'], message: 'over 10 needs a maxBatchingWindow of at least 1 second' });
  }
  if (shape.concurrency > shape.batchSize) {
    problems.push({ path: ['concurrency'], message: `must be at most the batch size (${shape.batchSize})` });
  }
  if (problems.length > 0) throw fromZodIssues(field, problems);
  return { ...shape, tuning: given };
}
