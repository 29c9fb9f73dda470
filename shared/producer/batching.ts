/** SQS takes at most ten entries in one SendMessageBatch. */
export const SQS_BATCH = 10;

/** Ten entries a batch, and no more bytes in a batch than the queue takes in one message. */
export function chunkBatches<T extends { body: string }>(items: readonly T[], maxBytes: number): T[][] {
  const batches: T[][] = [];
  let current: T[] = [];
  let bytes = 0;
  for (const item of items) {
    const size = Buffer.byteLength(item.body);
    if (current.length === SQS_BATCH || (current.length > 0 && bytes + size > maxBytes)) {
      batches.push(current);
      current = [];
      bytes = 0;
    }
    current.push(item);
    bytes += size;
  }
  if (current.length) batches.push(current);
  return batches;
}

/** Runs the jobs `concurrency` at a time. */
export async function runPool(jobs: readonly (() => Promise<void>)[], concurrency: number): Promise<void> {
  let next = 0;
  const lanes = Array.from({ length: Math.min(concurrency, jobs.length) }, async () => {
    while (next < jobs.length) {
      const job = jobs[next++] as () => Promise<void>;
      await job();
    }
  });
  await Promise.all(lanes);
}
