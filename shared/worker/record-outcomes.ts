import type { Logger } from '../log.ts';
import { EnqueueError } from '../producer/errors.ts';
import type { Producer } from '../producer/producer.ts';
import { withoutIndexKeys } from '../results/indexes.ts';
import { readableRecord, type TaskResultRecord } from '../results/record.ts';
import type { ResultStore } from '../results/store.ts';
import { TaskState } from '../task/states.ts';
import { describeError, safeText } from './execute.ts';
import type { BatchLedger } from './ledger.ts';
import type { Resend } from './work.ts';

/** Why a resend did not go: for good (the message itself is at fault) or for now (ours, transient). */
interface Unsent {
  permanent: boolean;
  errorType: string;
  reason: string;
}

/**
 * Sends the batch's retries, deferrals and early etas. Each entry's fate is its own: one that
 * cannot be sent for now leaves its record to come back (nothing is lost); one refused for good
 * (too large, unknown queue, bad eta) is recorded as a FAILURE naming why, final when the task ran,
 * poison (redrivable) when it never did.
 */
export async function resendAll(
  producer: Producer,
  ledger: BatchLedger,
  expiresAt: number,
  log: Logger,
): Promise<void> {
  const resends = ledger.resends;
  if (resends.length === 0) return;
  const unsent = await send(producer, resends);
  resends.forEach((resend, index) => {
    const why = unsent.get(index);
    if (!why) {
      if (resend.completion) ledger.record(resend.messageId, resend.completion);
      return;
    }
    const taskId = resend.envelope.id ?? '(no id)';
    if (!why.permanent) {
      ledger.giveBack(resend.messageId, `could not re-send ${taskId}: ${why.reason}`);
      return;
    }
    log.error('re-send refused; recorded as FAILURE', { taskId, error: why.errorType, reason: why.reason });
    const traceback = `${why.errorType}: ${why.reason}`;
    const dateDone = new Date().toISOString();
    if (resend.completion?.heldBy !== undefined) {
      const { record, heldBy } = resend.completion;
      const { eta: _never, ...row } = record;
      ledger.record(resend.messageId, {
        heldBy,
        record: {
          ...row,
          status: TaskState.FAILURE,
          errorType: why.errorType,
          traceback: record.traceback ? `${traceback}\nCaused by: ${record.traceback}` : traceback,
          dateDone,
        },
      });
      return;
    }
    ledger.record(resend.messageId, {
      record: {
        taskId,
        taskName: resend.envelope.task,
        status: TaskState.FAILURE,
        errorType: why.errorType,
        traceback,
        dateDone,
        expiresAt,
        poison: true,
      },
    });
    // A message that came early and cannot wait goes on to the DLQ, from where it can be redriven.
    if (resend.kind === 'eta') ledger.giveBack(resend.messageId, traceback);
  });
}

/**
 * One call for the set. The producer judges each entry on its own and lists the ones that did not
 * go in an `EnqueueError`; anything else it throws is no entry's fault, so every entry comes back.
 */
async function send(producer: Producer, resends: readonly Resend[]): Promise<Map<number, Unsent>> {
  const unsent = new Map<number, Unsent>();
  try {
    await producer.sendEnvelopes(resends.map(({ envelope, delaySeconds }) => ({ envelope, delaySeconds })));
  } catch (error) {
    if (error instanceof EnqueueError) {
      for (const { index, permanent, errorType, reason } of error.failed)
        unsent.set(index, { permanent, errorType, reason });
    } else {
      const { errorType } = describeError(error);
      const reason = safeText(error instanceof Error ? error.message : error);
      resends.forEach((_, index) => {
        unsent.set(index, { permanent: false, errorType, reason });
      });
    }
  }
  return unsent;
}

/**
 * Writes the batch's rows. DynamoDB refuses a transaction that touches one item twice: a second
 * outcome for the same task in one batch waits for its message to come back. A row that cannot
 * be written for now returns its record; a poison row refused by its condition (the id is a
 * real run's) is not written, and its record goes on to the DLQ as it would anyway.
 */
export async function completeAll(
  store: ResultStore,
  ledger: BatchLedger,
  log: Logger,
): Promise<Map<string, TaskResultRecord>> {
  /**
   * Message id → its task's row as it now stands: the one written, or the REVOKED row that refused
   * a run's outcome (revoked while it ran). Rows refused otherwise, or not written, are left out.
   */
  const written = new Map<string, TaskResultRecord>();
  const ids = new Set<string>();
  // A run's outcome goes before a poison row under the same id: only the run's may land.
  const ordered = [
    ...ledger.completions.filter((c) => c.completion.heldBy !== undefined),
    ...ledger.completions.filter((c) => c.completion.heldBy === undefined),
  ];
  const completions = ordered.filter(({ messageId, completion }) => {
    if (!ids.has(completion.record.taskId)) return ids.add(completion.record.taskId);
    ledger.giveBack(messageId, `a second outcome for task ${completion.record.taskId} in one batch`);
    return false;
  });
  if (completions.length === 0) return written;
  try {
    const outcomes = await store.complete(completions.map((c) => c.completion));
    outcomes.forEach((outcome, index) => {
      const { messageId, completion } = completions[index] as (typeof completions)[number];
      if (outcome.ok) {
        written.set(messageId, completion.record);
        return;
      }
      if (outcome.reason === 'condition' && outcome.old?.status === TaskState.REVOKED && completion.heldBy)
        written.set(messageId, readableRecord(withoutIndexKeys(outcome.old as unknown as TaskResultRecord)));
      if (outcome.reason === 'error') {
        ledger.giveBack(messageId, `could not record task ${completion.record.taskId}: ${outcome.message}`);
      } else if (completion.heldBy === undefined) {
        log.warn('poison message not recorded: its id belongs to a task that ran or is running', {
          messageId,
          taskId: completion.record.taskId,
          error: completion.record.errorType,
        });
      }
    });
  } catch (error) {
    const reason = `could not record results: ${safeText((error as Error)?.message ?? error)}`;
    for (const c of completions) ledger.giveBack(c.messageId, reason);
  }
  return written;
}
