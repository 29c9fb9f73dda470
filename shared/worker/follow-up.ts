import type { FollowUps } from '../canvas/follow-ups.ts';
import { READY_STATES } from '../task/states.ts';
import { describeError } from './execute.ts';
import type { BatchLedger } from './ledger.ts';
import type { Work } from './work.ts';

/**
 * Sends what the batch's ready tasks ask for (a chain's next, links, a chord's count), once their
 * rows are written; and again for redeliveries of finished tasks, in case a crash came between.
 * A message whose follow-ups could not be done comes back: its task is then found finished.
 */
export async function followUpBatch(
  followUps: FollowUps,
  ran: readonly Work[],
  finished: readonly Work[],
  ledger: BatchLedger,
): Promise<void> {
  const byMessage = new Map(ran.map((w) => [w.record.messageId, w.envelope]));
  const ready = ledger.completions.flatMap(({ messageId, completion }) => {
    const envelope = byMessage.get(messageId);
    // A run's own row (held by its lease) that was written: a poison row has no follow-ups.
    const written = completion.heldBy !== undefined && !ledger.returned.has(messageId);
    return envelope && written && READY_STATES.has(completion.record.status)
      ? [{ messageId, envelope, record: completion.record }]
      : [];
  });
  const redelivered = finished.map((w) => ({
    messageId: w.record.messageId,
    envelope: w.envelope,
    record: w.finishedRow,
  }));
  try {
    for (const [messageId, why] of await followUps.afterOutcomes([...ready, ...redelivered]))
      ledger.giveBack(messageId, why);
  } catch (error) {
    const why = `follow-ups not done: ${describeError(error).traceback.split('\n', 1)[0]}`;
    for (const f of [...ready, ...redelivered]) ledger.giveBack(f.messageId, why);
  }
}
