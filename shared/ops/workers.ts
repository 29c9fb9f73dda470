import * as z from '../schema.ts';
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

/**
 * The environment variable the stack gives the admin function: JSON, route name → `WorkerInfo`,
 * the same figures it built each worker and its mapping with (`infra/route-shape.ts`).
 */
export const WORKERS_ENV = 'CELERITY_ROUTE_WORKERS';

const workerInfo = z.record(
  z.string(),
  z.object({
    functionName: z.optional(z.string()),
    batchSize: z.optional(z.number()),
    maxConcurrency: z.optional(z.number()),
    concurrency: z.optional(z.number()),
    timeoutSeconds: z.optional(z.number()),
    memorySize: z.optional(z.number()),
  }),
);

/** `OpsContext.workers` from the environment; absent or unreadable, none (the columns are left out). */
export function workersFromEnv(
  env: Readonly<Record<string, string | undefined>>,
): Record<string, WorkerInfo> | undefined {
  const text = env[WORKERS_ENV];
  if (!text) return undefined;
  try {
    const parsed = workerInfo.safeParse(JSON.parse(text));
    return parsed.success ? (parsed.data as Record<string, WorkerInfo>) : undefined;
  } catch {
    return undefined;
  }
}
