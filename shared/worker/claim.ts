import type { Logger } from '../log.ts';
import type { ClaimOutcome, ResultStore } from '../results/store.ts';
import { READY_STATES } from '../task/states.ts';
import { describeError } from './execute.ts';
import type { BatchLedger } from './ledger.ts';
import type { Work } from './work.ts';

/**
 * Claims the batch's runs in as few transactions as DynamoDB allows. A claim that cannot be made
 * for now (another run holds the task, a write failed) returns that record alone; finished,
 * revoked and stale deliveries are dropped. Claimed runs whose `expires` has passed are set
 * apart, to be recorded REVOKED as Celery does.
 */
export async function claimBatch(
  store: ResultStore,
  work: readonly Work[],
  now: number,
  ledger: BatchLedger,
  log: Logger,
): Promise<{ runnable: Work[]; expired: Work[]; finished: Work[] }> {
  const runnable: Work[] = [];
  const expired: Work[] = [];
  /** Redeliveries of tasks that are ready: not run again, but their follow-ups are checked. */
  const finished: Work[] = [];
  if (work.length === 0) return { runnable, expired, finished };
  let outcomes: ClaimOutcome[];
  try {
    outcomes = await store.claim(
      work.map((w) => w.row),
      now,
    );
  } catch (error) {
    const reason = `could not claim: ${describeError(error).traceback.split('\n', 1)[0]}`;
    log.error('could not claim batch; it will be delivered again', { error: reason });
    for (const w of work) ledger.giveBack(w.record.messageId, reason);
    return { runnable, expired, finished };
  }
  const reused: Promise<void>[] = [];
  work.forEach((w, index) => {
    const outcome = outcomes[index];
    if (outcome?.claimed) {
      if (w.envelope.expires && Date.parse(w.envelope.expires) <= now) {
        log.info('task expired', { taskId: w.envelope.id, task: w.task.name, state: 'REVOKED' });
        expired.push(w);
      } else {
        runnable.push(w);
      }
    } else if (!outcome || outcome.why === 'in-flight' || outcome.why === 'error') {
      const why = !outcome
        ? 'no claim outcome'
        : outcome.why === 'error'
          ? outcome.message
          : 'another run holds it';
      ledger.giveBack(w.record.messageId, `task ${w.envelope.id} not claimed: ${why}`);
    } else if (outcome.why === 'reused') {
      reused.push(reportReuse(store, w, outcome, log, ledger));
    } else {
      if (outcome.why === 'finished')
        finished.push({ ...w, ...(outcome.record ? { finishedRow: outcome.record } : {}) });
      log.debug('skipped delivery', { taskId: w.envelope.id, task: w.task.name, why: outcome.why });
    }
  });
  await Promise.all(reused);
  return { runnable, expired, finished };
}

/**
 * A message for another task (or other args) under an id whose row is a different task's: it is
 * not run, and the first task's row keeps its result. The reuse is logged as an ERROR naming both.
 * Once the first task has finished, the reuse is noted on its row (`idReused`), where whoever sent
 * it looks for its result, and the message is done with; until then the note would be lost to the
 * first task's next write, so the message goes back to its queue and is reported again later.
 */
async function reportReuse(
  store: ResultStore,
  w: Work,
  outcome: Extract<ClaimOutcome, { why: 'reused' }>,
  log: Logger,
  ledger: BatchLedger,
): Promise<void> {
  const { id, task, origin } = w.envelope;
  const finished = READY_STATES.has(outcome.status);
  log.error('task id reused by a different message: not run; the first task keeps the id', {
    taskId: id,
    task,
    messageId: w.record.messageId,
    origin,
    digest: w.row.envelopeDigest,
    firstTask: outcome.taskName,
    firstStatus: outcome.status,
    firstDigest: outcome.digest,
    outcome: finished
      ? "noted on the first task's row (idReused)"
      : 'returned to its queue until the first task finishes',
  });
  if (!finished) {
    ledger.giveBack(w.record.messageId, `task id ${id} is held by a different task (${outcome.status})`);
    return;
  }
  const note =
    `${new Date().toISOString()}: message ${w.record.messageId} (task ${task}, digest ` +
    `${w.row.envelopeDigest?.slice(0, 12)}, from ${origin ?? 'an unnamed sender'}) reused this id for a ` +
    'different task or other arguments and was not run';
  try {
    await store.noteReuse(id, outcome.digest, note);
  } catch (error) {
    ledger.giveBack(
      w.record.messageId,
      `could not note the reuse of id ${id}: ${describeError(error).errorType}`,
    );
  }
}
