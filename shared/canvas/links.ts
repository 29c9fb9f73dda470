import { owesCeleryItem } from '../celery/result-backend.ts';
import type { Envelope } from '../envelope/schema.ts';
import { EnqueueError, type EnqueueFailure } from '../producer/errors.ts';
import type { TaskResultRecord } from '../results/record.ts';
import { TaskState } from '../task/states.ts';
import type { FinishedTask, FollowUpDeps, FollowUpStep } from './follow-ups.ts';
import { afterSuccess, errbacks, type NextPart, unrunRows } from './next-parts.ts';

interface Plan {
  finished: FinishedTask;
  parts: NextPart[];
  /** Rows of chain members that will never run. */
  unrun: TaskResultRecord[];
  /** What its row lists as its children: the chain's next part (run or not), then the rest it sent. */
  children: string[];
}

function planOf(f: FinishedTask, now: number, expiresAt: number): Plan {
  const { envelope, record } = f;
  if (record.status === TaskState.SUCCESS) {
    const parts = afterSuccess(envelope, record, now);
    return { finished: f, parts, unrun: [], children: parts.map((p) => p.envelope.id as string) };
  }
  // Celery's mark_as_revoked calls no errbacks; a failure calls them.
  const parts = record.status === TaskState.FAILURE ? errbacks(envelope, now) : [];
  const next = envelope.chain?.[0];
  return {
    finished: f,
    parts,
    unrun: unrunRows(envelope.id, envelope.chain ?? [], record, now, expiresAt),
    children: [...(next ? [next.id] : []), ...parts.map((p) => p.envelope.id as string)],
  };
}

interface Refused {
  part: NextPart;
  plan: Plan;
  failure: EnqueueFailure;
}

const why = (error: unknown) => (error instanceof Error ? `${error.name}: ${error.message}` : String(error));

/**
 * The rows of follow-ups the queue refused for good (invalid once the parent's result is put
 * first, too large): each is a FAILURE with the refusal, and so is the rest of a refused chain
 * part, as if it had run and failed; nothing would mend them by trying again.
 */
function refusedRows({ part, plan, failure }: Refused, now: number, expiresAt: number): TaskResultRecord[] {
  const outcome = {
    status: TaskState.FAILURE,
    errorType: failure.errorType,
    traceback: `${failure.errorType}: ${failure.reason}`,
  };
  const [row] = unrunRows(
    plan.finished.envelope.id,
    [{ task: part.envelope.task, id: part.envelope.id as string }],
    outcome,
    now,
    expiresAt,
  );
  return [
    { ...(row as TaskResultRecord), args: JSON.stringify(part.envelope.args ?? []) },
    ...unrunRows(part.envelope.id as string, part.rest, outcome, now, expiresAt),
  ];
}

/**
 * The follow-ups of links and chains (`followUpSteps`): on SUCCESS the `link`s, the parent's
 * result first in mutable ones, and the chain's next part with the rest of the chain; on FAILURE
 * or REVOKED every chain member after it gets the same outcome on its row, and on FAILURE the
 * `linkError`s run with the failed task's id first. Ids are fixed in the message, so doing all of
 * it again for a redelivered message sends nothing that runs twice and writes the same rows.
 */
export const linksStep: FollowUpStep = async (finished, deps) => {
  const now = Date.now();
  const expiresAt = Math.floor(now / 1000) + deps.config.resultExpires;
  const unfinished = new Map<string, string>();
  const plans = finished.map((f) => planOf(f, now, expiresAt));

  // The rows of the members that never run go first: an errback reads them.
  await Promise.all(
    plans
      .filter((p) => p.unrun.length > 0)
      .map(async (p) => {
        const notRecorded = await recordUnrun(p.finished, p.unrun, deps, 'chain members');
        if (notRecorded) unfinished.set(p.finished.messageId, notRecorded);
      }),
  );

  const items = plans
    .filter((p) => !unfinished.has(p.finished.messageId))
    .flatMap((plan) => plan.parts.map((part) => ({ plan, part })));
  const refused = await sendFollowUps(items, deps, unfinished);
  if (refused.length > 0) await recordRefused(refused, deps, now, expiresAt, unfinished);

  await Promise.all(
    plans
      .filter((p) => p.children.length > 0 && !unfinished.has(p.finished.messageId))
      .map((p) =>
        deps.store.noteChildren(p.finished.envelope.id, p.children).catch((error: unknown) => {
          unfinished.set(p.finished.messageId, `children not noted: ${why(error)}`);
        }),
      ),
  );
  return unfinished;
};

async function recordRefused(
  refused: readonly Refused[],
  deps: FollowUpDeps,
  now: number,
  expiresAt: number,
  unfinished: Map<string, string>,
): Promise<void> {
  for (const { part, failure } of refused)
    deps.log.error('a follow-up was refused for good; recorded as FAILURE', {
      taskId: part.envelope.id,
      task: part.envelope.task,
      kind: part.kind,
      error: `${failure.errorType}: ${failure.reason}`,
    });
  const recorded: Refused[] = [];
  await Promise.all(
    refused.map(async (r) => {
      const rows = refusedRows(r, now, expiresAt);
      const notRecorded = await recordUnrun(r.plan.finished, rows, deps, 'refused follow-ups');
      if (notRecorded) unfinished.set(r.plan.finished.messageId, notRecorded);
      else recorded.push(r);
    }),
  );
  // A refused part failed as surely as one that ran and threw: its `linkError`s, and those of the
  // chain members after it, run with its id first (once its row, which they read, is written).
  // One refused in its turn is only logged: the refusal is on the part's row already.
  const errbackItems = recorded.flatMap(({ part, plan }) =>
    errbacks({ ...part.envelope, id: part.envelope.id as string } as Envelope, now).map((errback) => ({
      plan,
      part: errback,
    })),
  );
  for (const { part, failure } of await sendFollowUps(errbackItems, deps, unfinished))
    deps.log.error('an errback of a refused follow-up was refused too', {
      taskId: part.envelope.id,
      error: `${failure.errorType}: ${failure.reason}`,
    });
}

/**
 * Sends follow-ups in the producer's batches; returns those the queue refused for good. One that
 * failed for now marks its finished task's message to come again, when it is sent once more.
 */
async function sendFollowUps(
  items: readonly { plan: Plan; part: NextPart }[],
  deps: FollowUpDeps,
  unfinished: Map<string, string>,
): Promise<Refused[]> {
  const refused: Refused[] = [];
  if (items.length === 0) return refused;
  try {
    await deps.producer.sendEnvelopes(items.map(({ part }) => ({ envelope: part.envelope })));
  } catch (error) {
    if (!(error instanceof EnqueueError)) throw error;
    for (const failure of error.failed) {
      const item = items[failure.index];
      if (!item) continue;
      if (failure.permanent) refused.push({ part: item.part, plan: item.plan, failure });
      else
        unfinished.set(
          item.plan.finished.messageId,
          `follow-up ${failure.taskId} not sent: ${failure.reason}`,
        );
    }
  }
  return refused;
}

/**
 * Records the rows of chain members that will never run; for a Celery producer's chain, then
 * their items in Celery's layout too: Celery's `mark_as_failure` stores the failure on every later
 * member, so that the chain's `AsyncResult` (its last member's) is ready. Says why, when not done.
 */
async function recordUnrun(
  finished: FinishedTask,
  rows: readonly TaskResultRecord[],
  deps: FollowUpDeps,
  what: string,
): Promise<string | undefined> {
  try {
    await deps.store.recordUnrun(rows);
  } catch (error) {
    return `${what} not recorded: ${why(error)}`;
  }
  if (!deps.celery || !owesCeleryItem(finished.envelope)) return undefined;
  const failed = await deps.celery.writeOutcomes(
    rows.map((record) => ({ record, links: { parentId: record.parentId } })),
  );
  return failed.size > 0 ? `${failed.size} ${what} not written in the Celery layout` : undefined;
}
