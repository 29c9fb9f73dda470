import type { Logger } from '../log.ts';
import { describeError } from './execute.ts';
import type { BatchLedger } from './ledger.ts';
import { deferralSeconds, type RateLimiter } from './rate-limit.ts';
import { deferral } from './settle.ts';
import type { Work } from './work.ts';

/**
 * Takes tokens for a batch's rate-limited tasks, one request per task name; the runs that do not
 * fit are sent again for a later window. A task whose tokens cannot be taken (no table, a failed
 * request) has its runs given back, and only those.
 */
export async function applyRateLimits(
  rateLimiter: RateLimiter | undefined,
  claimed: readonly Work[],
  at: { now: number; ledger: BatchLedger; log: Logger },
): Promise<Work[]> {
  const { now, ledger, log } = at;
  const limited = new Map<string, Work[]>();
  const runnable: Work[] = [];
  for (const w of claimed) {
    if (!w.task.options.rateLimit) runnable.push(w);
    else limited.set(w.task.name, [...(limited.get(w.task.name) ?? []), w]);
  }
  await Promise.all(
    [...limited].map(async ([name, group]) => {
      const limit = group[0]?.task.options.rateLimit;
      try {
        if (!limit) throw new Error(`task ${name} has no rate limit`);
        if (!rateLimiter)
          throw new Error(`task ${name} has a rateLimit but no rate-limit table is configured`);
        const grant = await rateLimiter.acquire(name, limit, group.length, now);
        group.forEach((w, position) => {
          if (position < grant.granted) runnable.push({ ...w, windowEnd: grant.windowEnd });
          else ledger.resends.push(deferral(w, deferralSeconds(grant, limit, position - grant.granted, now)));
        });
      } catch (error) {
        const reason = `rate limit of ${name} not taken: ${describeError(error).traceback.split('\n', 1)[0]}`;
        log.error('could not take rate-limit tokens; the runs will be delivered again', {
          task: name,
          reason,
        });
        for (const w of group) ledger.giveBack(w.record.messageId, reason);
      }
    }),
  );
  return runnable;
}
