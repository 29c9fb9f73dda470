import { TaskState } from '../task/states.ts';
import { withoutIndexKeys } from './indexes.ts';
import { readableRecord, type TaskResultRecord } from './record.ts';
import type { TransactOutcome } from './transact.ts';

/**
 * A run asking to hold a task: the whole row as it should read while the run goes on, with the
 * lease that makes a redelivered message harmless.
 */
export type ClaimRequest = TaskResultRecord & { leaseUntil: number; leaseToken: string; retries: number };

export type ClaimOutcome =
  | { claimed: true }
  /**
   * The task reached a ready state (SUCCESS, FAILURE, REVOKED): the message is done with. `record`
   * is its row as the refused claim returned it, so a redelivery's follow-ups need no read.
   */
  | { claimed: false; why: 'finished'; status: TaskState; record?: TaskResultRecord }
  /** Another run holds a live lease: this delivery must come back later. */
  | { claimed: false; why: 'in-flight' }
  /** The message is an older attempt than the one already recorded: drop it. */
  | { claimed: false; why: 'stale' }
  /** The row is another task's (its `envelopeDigest` differs): this message reuses the id. */
  | { claimed: false; why: 'reused'; status: TaskState; taskName: string | undefined; digest: string }
  | { claimed: false; why: 'error'; message: string };

const FINISHED = [TaskState.SUCCESS, TaskState.FAILURE, TaskState.REVOKED];

/** Reads why a claim's condition failed from the row it returned (`ALL_OLD`). */
export function toClaimOutcome(outcome: TransactOutcome, request: ClaimRequest, now: number): ClaimOutcome {
  if (outcome.ok) return { claimed: true };
  if (outcome.reason === 'error') return { claimed: false, why: 'error', message: outcome.message };
  const old = outcome.old ?? {};
  const status = old.status as TaskState | undefined;
  const digest = old.envelopeDigest;
  if (
    typeof digest === 'string' &&
    old.poison !== true &&
    request.envelopeDigest !== undefined &&
    digest !== request.envelopeDigest
  )
    return {
      claimed: false,
      why: 'reused',
      status: status ?? TaskState.PENDING,
      taskName: typeof old.taskName === 'string' ? old.taskName : undefined,
      digest,
    };
  if (status && FINISHED.includes(status as (typeof FINISHED)[number])) {
    const record =
      typeof old.taskId === 'string'
        ? readableRecord(withoutIndexKeys(old as unknown as TaskResultRecord))
        : undefined;
    return { claimed: false, why: 'finished', status, ...(record ? { record } : {}) };
  }
  if (typeof old.retries === 'number' && old.retries > request.retries)
    return { claimed: false, why: 'stale' };
  if (typeof old.leaseUntil === 'number' && old.leaseUntil >= now)
    return { claimed: false, why: 'in-flight' };
  // The condition failed yet the image shows none of the reasons: treat it as busy and look again later.
  return { claimed: false, why: 'in-flight' };
}
