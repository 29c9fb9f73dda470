import { type CeleryLinks, type CeleryResultWriter, owesCeleryItem } from '../celery/result-backend.ts';
import type { Envelope } from '../envelope/schema.ts';
import type { Logger } from '../log.ts';
import type { TaskResultRecord } from '../results/record.ts';
import type { ResultStore } from '../results/store.ts';
import type { StateWriter } from '../task/context.ts';
import { READY_STATES, TaskState } from '../task/states.ts';
import { describeError } from './execute.ts';
import type { BatchLedger } from './ledger.ts';
import type { Work } from './work.ts';

/** The ids Celery's meta keeps for a task, from its message. */
function linksOf(envelope: Envelope): CeleryLinks {
  return { parentId: envelope.parentId, groupId: envelope.group?.id };
}

/**
 * Where a run's `ctx.updateState` writes: its row, under its lease; then, for a task that came
 * in Celery's protocol with the Celery layout on, the Celery item too. A Celery item that cannot
 * be written does not fail the task (its row holds the state): it is said in the log.
 */
export function stateWriterFor(
  w: Work,
  store: ResultStore,
  celery: CeleryResultWriter | undefined,
  log: Logger,
): StateWriter {
  const { taskId, leaseToken, expiresAt } = w.row;
  return async (state, metaJson) => {
    const written = await store.updateState({ taskId, state, metaJson, heldBy: leaseToken });
    if (!written || !celery || !owesCeleryItem(w.envelope)) return written;
    await celery
      .writeProgress({
        record: {
          taskId,
          status: state,
          result: metaJson,
          ...(expiresAt === undefined ? {} : { expiresAt }),
        },
        links: linksOf(w.envelope),
      })
      .catch((error: unknown) =>
        log.warn('custom state not written in the Celery layout', {
          taskId,
          state,
          error: describeError(error).errorType,
        }),
      );
    return written;
  };
}

/**
 * Writes the Celery item of each Celery-originated task of the batch whose row was just written,
 * of each refused Celery message whose FAILURE row was written (`poison`), and of each redelivery
 * of a task found finished (its row as the refused claim returned it): the item is made from the
 * row, so writing it again is harmless. A ready outcome whose item could not be written gives its
 * record back: the redelivery finds the task finished, runs nothing, and writes the item again
 * (after `maxReceiveCount` tries the record rests in the DLQ, the row intact). A RETRY's item is
 * only logged: its record may not come back, the next attempt was already sent; so is a refused
 * message's, whose record comes back anyway and is recorded again.
 */
export async function mirrorCeleryOutcomes(
  celery: CeleryResultWriter | undefined,
  batch: {
    ran: readonly Work[];
    finished: readonly Work[];
    /** Message id → its task's row as it now stands (`completeAll`). */
    written: ReadonlyMap<string, TaskResultRecord>;
    poison?: ReadonlySet<string>;
  },
  ledger: BatchLedger,
  log: Logger,
): Promise<void> {
  if (!celery) return;
  const byMessage = new Map(
    batch.ran.filter((w) => owesCeleryItem(w.envelope)).map((w) => [w.record.messageId, w]),
  );
  const outcomes: { messageId: string; record: TaskResultRecord; links: CeleryLinks; owed: boolean }[] = [];
  for (const { messageId, completion } of ledger.completions) {
    const record = batch.written.get(messageId);
    if (!record) continue;
    const w = byMessage.get(messageId);
    if (w && (READY_STATES.has(record.status) || record.status === TaskState.RETRY))
      outcomes.push({ messageId, record, links: linksOf(w.envelope), owed: READY_STATES.has(record.status) });
    else if (!w && completion.heldBy === undefined && batch.poison?.has(messageId))
      outcomes.push({ messageId, record, links: {}, owed: false });
  }
  for (const w of batch.finished) {
    if (owesCeleryItem(w.envelope) && w.finishedRow)
      outcomes.push({
        messageId: w.record.messageId,
        record: w.finishedRow,
        links: linksOf(w.envelope),
        owed: true,
      });
  }
  if (outcomes.length === 0) return;
  const failed = await celery.writeOutcomes(outcomes);
  for (const { messageId, record, owed } of outcomes) {
    if (!failed.has(record.taskId)) continue;
    log.warn('outcome not written in the Celery layout', { taskId: record.taskId, status: record.status });
    if (owed) ledger.giveBack(messageId, `its Celery result item (${record.status}) was not written`);
  }
}
