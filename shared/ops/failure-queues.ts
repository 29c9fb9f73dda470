import type { QueueTarget } from '../config/config.ts';
import type { OpsContext, QueueRef } from './context.ts';
import { NotFoundError } from './errors.ts';
import {
  deadLetterQueueOf,
  type QueueCounts,
  type QueueDepth,
  queueCounts,
  queueDepths,
  queueUrlOfArn,
} from './queues.ts';

/** The failure queues that are no route's DLQ, by the names users type. */
export const FailureQueueName = {
  /** The Scheduler's DLQ: deliveries of delayed (one-time) and periodic schedules that failed. */
  scheduler: 'scheduler',
  /** The beat-sync function's on-failure queue: records of stream batches it gave up on. */
  beatSync: 'beat-sync',
} as const;

/** What a failure queue's messages are: task envelopes, the Scheduler's dead letters, Lambda's failure records. */
export type FailureQueueKind = 'task' | 'scheduler' | 'beat-sync';

export interface FailureQueue {
  /** What users type: the route's name for its DLQ, `scheduler`, `beat-sync`. */
  name: string;
  kind: FailureQueueKind;
  url: string;
  arn?: string;
  /** A route DLQ's own queue, where redriven messages go. */
  source?: QueueTarget;
  /** What lands here, in words. */
  holds: string;
}

const HOLDS: Record<FailureQueueKind, string> = {
  task: 'task messages received maxReceiveCount times without finishing',
  scheduler: 'schedule deliveries the Scheduler gave up on (delayed and periodic tasks)',
  'beat-sync': 'periodic-task changes the beat sync could not apply (stream batches)',
};

function known(ctx: OpsContext): string {
  return `known: ${[...Object.keys(ctx.config.queues), ...Object.values(FailureQueueName)].join(', ')}`;
}

/** The Scheduler's DLQ: as the target names it, else from the producer's configuration. */
async function schedulerDlq(ctx: OpsContext): Promise<QueueRef | undefined> {
  const given = ctx.failureQueues?.scheduler;
  if (given) return given;
  const arn = ctx.config.scheduler?.deadLetterArn;
  const url = arn ? await queueUrlOfArn(ctx.clients.sqs, arn) : undefined;
  return url ? { url, arn } : undefined;
}

function special(kind: Exclude<FailureQueueKind, 'task'>, ref: QueueRef): FailureQueue {
  return { name: kind, kind, url: ref.url, ...(ref.arn ? { arn: ref.arn } : {}), holds: HOLDS[kind] };
}

/**
 * A failure queue by the name a user types: a route's name for its DLQ (routes come first, so a
 * route named `scheduler` shadows the Scheduler's DLQ), `scheduler` or `beat-sync`.
 */
export async function failureQueue(ctx: OpsContext, name: string): Promise<FailureQueue> {
  const source = ctx.config.queues[name];
  if (source) {
    const dlq = await deadLetterQueueOf(ctx.clients.sqs, source.url);
    if (!dlq) throw new NotFoundError('dead-letter queue', name, 'this queue has no redrive policy');
    return { name, kind: 'task', url: dlq.url, arn: dlq.arn, source, holds: HOLDS.task };
  }
  if (name === FailureQueueName.scheduler) {
    const ref = await schedulerDlq(ctx);
    if (!ref) throw new NotFoundError('dead-letter queue', name, 'this target names no Scheduler DLQ');
    return special('scheduler', ref);
  }
  if (name === FailureQueueName.beatSync) {
    const ref = ctx.failureQueues?.beatSync;
    if (!ref) {
      throw new NotFoundError(
        'dead-letter queue',
        name,
        'this target names no beat-sync failure queue (a local cloud: restart `npm run dev`)',
      );
    }
    return special('beat-sync', ref);
  }
  throw new NotFoundError('dead-letter queue', name, known(ctx));
}

export interface FailureQueueDepth extends QueueCounts {
  name: string;
  kind: FailureQueueKind;
  holds: string;
}

/**
 * Every failure queue with its depth: each route's DLQ (from `routes`, as `queueDepths` read
 * them), the Scheduler's DLQ and the beat-sync failure queue.
 */
export async function failureQueueDepths(
  ctx: OpsContext,
  routes?: readonly QueueDepth[],
): Promise<FailureQueueDepth[]> {
  const depths = routes ?? (await queueDepths(ctx));
  const fromRoutes = depths.flatMap((d) =>
    d.dlq ? [{ name: d.queue, kind: 'task' as const, holds: HOLDS.task, ...d.dlq }] : [],
  );
  const refs = [
    ['scheduler', await schedulerDlq(ctx)],
    ['beat-sync', ctx.failureQueues?.beatSync],
  ] as const;
  const others = await Promise.all(
    refs.flatMap(([kind, ref]) =>
      ref
        ? [
            queueCounts(ctx.clients.sqs, ref.url).then((c) => ({
              name: kind,
              kind,
              holds: HOLDS[kind],
              ...c,
            })),
          ]
        : [],
    ),
  );
  return [...fromRoutes, ...others];
}
