import { mapLimit } from '../batches.ts';
import { MessageTooLargeError } from '../envelope/errors.ts';
import { type Signature, signatureSchema } from '../envelope/signature.ts';
import { EnqueueError } from '../producer/errors.ts';
import type { TaskResultRecord } from '../results/record.ts';
import { TaskState } from '../task/states.ts';
import { ChordError } from './chord-errors.ts';
import { markSettled, recordCallbackFailure } from './chord-store.ts';
import type { FollowUpDeps } from './follow-ups.ts';
import { signatureEnvelope } from './group-send.ts';
import { type ChordItem, chunksOf, readGroupRecord } from './group-store.ts';

/** Member rows read at once when the callback is sent: BatchGetItem's 100 keys, a few requests at a time. */
const READ_CONCURRENCY = 8;

export function callbackOf(chord: ChordItem): Signature {
  return signatureSchema.parse(JSON.parse(chord.callback));
}

/** The first line after the error's own name: what Celery's `ChordError` quotes of it. */
function detailOf(row: TaskResultRecord): string | undefined {
  const head = row.traceback?.split('\n', 1)[0];
  if (!head) return row.status === TaskState.REVOKED ? 'the task was revoked' : undefined;
  return row.errorType && head.startsWith(`${row.errorType}: `) ? head.slice(row.errorType.length + 2) : head;
}

/** The ChordError for a member that failed or was revoked. */
export function dependencyError(member: TaskResultRecord): ChordError {
  return ChordError.dependency(
    member.taskId,
    member.status === TaskState.REVOKED ? (member.errorType ?? 'TaskRevokedError') : member.errorType,
    detailOf(member),
  );
}

/**
 * The callback as a FAILURE it never ran for, and then its errbacks (each with the callback's id
 * first, as Celery's `chord_error_from_stack` calls them). Idempotent: the row is written once,
 * and errbacks have ids fixed at apply time, so sending them again is a no-op for the worker.
 */
export async function failCallback(
  deps: FollowUpDeps,
  chord: ChordItem,
  error: ChordError,
  now: Date = new Date(),
): Promise<void> {
  const callback = callbackOf(chord);
  const failed = await recordCallbackFailure(deps.store.dynamo, deps.store.table, {
    taskId: callback.id,
    taskName: callback.task,
    status: TaskState.FAILURE,
    args: JSON.stringify(callback.args ?? []),
    kwargs: JSON.stringify(callback.kwargs ?? {}),
    errorType: error.exceptionType,
    traceback: `${error.exceptionType}: ${error.message}`,
    dateCreated: chord.dateCreated,
    dateDone: now.toISOString(),
    origin: `chord ${chord.groupId}`,
    expiresAt: Math.floor(now.getTime() / 1000) + deps.config.resultExpires,
  });
  if (!failed) return;
  deps.log.warn('chord callback recorded FAILURE without running', {
    chord: chord.groupId,
    taskId: callback.id,
    error: error.message,
  });
  const errbacks = callback.linkError ?? [];
  if (errbacks.length > 0)
    await deps.producer.sendEnvelopes(
      errbacks.map((errback) => ({
        envelope: signatureEnvelope(errback, {
          now: now.getTime(),
          first: { value: callback.id },
          parentId: callback.id,
        }),
      })),
    );
  await markSettled(deps.store.dynamo, deps.store.table, chord.groupId, now);
}

/**
 * Sends the callback of a chord whose every member is counted: with the members' results in
 * member order first, or, when one of them failed or was revoked, records it FAILURE instead.
 */
export async function fireChord(deps: FollowUpDeps, chord: ChordItem, now: Date = new Date()): Promise<void> {
  const group = await readGroupRecord(deps.store.dynamo, deps.store.table, chord.groupId, now);
  if (!group) {
    await failCallback(deps, chord, new ChordError(`the record of group ${chord.groupId} is gone`), now);
    return;
  }
  const rows = new Map<string, TaskResultRecord>();
  await mapLimit(chunksOf(group.memberIds, 100), READ_CONCURRENCY, async (ids) => {
    for (const row of await deps.store.getMany(ids)) rows.set(row.taskId, row);
  });
  const results: unknown[] = [];
  for (const id of group.memberIds) {
    const row = rows.get(id);
    if (!row) {
      await failCallback(
        deps,
        chord,
        new ChordError(`Dependency ${id} has no result (expired?)`, { dependency: id }),
        now,
      );
      return;
    }
    if (row.status === TaskState.FAILURE || row.status === TaskState.REVOKED) {
      await failCallback(deps, chord, dependencyError(row), now);
      return;
    }
    // Counted only once ready, so this is a row changed since: the message comes again and looks again.
    if (row.status !== TaskState.SUCCESS)
      throw new ChordError(`Dependency ${id} is ${row.status}, not ready: the callback waits`, {
        dependency: id,
      });
    results.push(row.result === undefined ? null : JSON.parse(row.result));
  }
  const callback = callbackOf(chord);
  const envelope = signatureEnvelope(callback, {
    now: now.getTime(),
    first: { value: results },
    rootId: chord.groupId,
  });
  try {
    await deps.producer.sendEnvelopes([{ envelope }]);
  } catch (error) {
    // Sending again cannot mend a refused message (its results over the queue's message size, a
    // queue the deployment lacks): the callback cannot run, and says why. Anything else: later.
    const refused = error instanceof EnqueueError && error.failed[0]?.permanent === true;
    if (!refused) throw error;
    const why =
      error.cause instanceof MessageTooLargeError
        ? `the results of the ${group.memberIds.length} members do not fit the callback's message (${error.cause.message}); return smaller results (an S3 key, a row id) from the members`
        : `the callback could not be sent: ${error.failed[0]?.reason}`;
    await failCallback(deps, chord, new ChordError(why, { cause: error }), now);
    return;
  }
  await markSettled(deps.store.dynamo, deps.store.table, chord.groupId, now);
}
