import type { OpsContext, WorkerInfo } from './context.ts';
import { type QueueDepth, queueDepths } from './queues.ts';

export interface QueueOverview extends QueueDepth {
  worker?: WorkerInfo;
  /** Seconds the oldest waiting message has waited; null when unknown (see `OpsContext.oldestAgeSeconds`). */
  oldestAgeSeconds: number | null;
}

/**
 * Flower's Broker and Workers pages as one list: each route queue's depth (visible, in flight,
 * delayed, scheduled), its DLQ's depth, its worker, and the age of its oldest message.
 */
export async function queueOverview(ctx: OpsContext): Promise<QueueOverview[]> {
  const depths = await queueDepths(ctx);
  return Promise.all(
    depths.map(async (depth) => {
      const worker = ctx.workers?.[depth.queue];
      const age = ctx.oldestAgeSeconds
        ? await ctx.oldestAgeSeconds(depth.queue, depth.url).catch(() => null)
        : null;
      return { ...depth, ...(worker ? { worker } : {}), oldestAgeSeconds: age };
    }),
  );
}
