import type { FollowUps } from '../canvas/follow-ups.ts';
import type { TaskResultRecord } from '../results/record.ts';
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
  batch: {
    ran: readonly Work[];
    finished: readonly Work[];
    /** Message id → its task's row as it now stands (`completeAll`): only rows that stand are followed up. */
    written: ReadonlyMap<string, TaskResultRecord>;
  },
  ledger: BatchLedger,
): Promise<void> {
  const { ran, finished, written } = batch;
  const ready = ran.flatMap((w) => {
    const messageId = w.record.messageId;
    const record = written.get(messageId);
    return record && READY_STATES.has(record.status) && !ledger.returned.has(messageId)
      ? [{ messageId, envelope: w.envelope, record }]
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
