import type { Envelope, EnvelopeInput } from '../envelope/schema.ts';
import type { Signature } from '../envelope/signature.ts';
import type { TaskResultRecord } from '../results/record.ts';

/**
 * What a ready task's message asks to be sent, as envelopes, and which members of its chain will
 * never run. Pure: the same finished task always gives the same envelopes (ids, args), so sending
 * them again after a redelivery is a no-op at the worker's id check.
 */

/** One follow-up to send: a chain's next part, a link, or an errback. */
export interface NextPart {
  kind: 'chain' | 'link' | 'linkError';
  envelope: EnvelopeInput;
  /** For a chain's next part: the members after it (they never run if it cannot be sent). */
  rest: readonly Signature[];
}

/**
 * Who sends a follow-up: the parent's id and the chain's root, and whether it came from a Celery
 * producer (its follow-ups are then Celery's too: a Python chain's AsyncResult is its last part's).
 */
interface Sender {
  id: string;
  rootId: string;
  celery?: boolean;
}

function senderOf(envelope: Envelope): Sender {
  return { id: envelope.id, rootId: envelope.rootId ?? envelope.id, celery: envelope.celery !== undefined };
}

/**
 * A signature as the message that runs it. `first` goes before its args unless it is immutable
 * (a parent's result, or a failed task's id); `chain` is the rest of its chain.
 */
export function envelopeOfSignature(
  sig: Signature,
  from: Sender,
  now: number,
  first?: { value: unknown },
  chain: readonly Signature[] = [],
): EnvelopeInput {
  const args = sig.args ?? [];
  return {
    v: 1,
    id: sig.id,
    task: sig.task,
    args: first !== undefined && !sig.immutable ? [first.value, ...args] : [...args],
    kwargs: sig.kwargs ?? {},
    ...(sig.countdown ? { eta: new Date(now + sig.countdown * 1000).toISOString() } : {}),
    ...(sig.expires ? { expires: sig.expires } : {}),
    ...(sig.queue ? { queue: sig.queue } : {}),
    ...(sig.timeLimit !== undefined ? { timeLimit: sig.timeLimit } : {}),
    ...(sig.softTimeLimit !== undefined ? { softTimeLimit: sig.softTimeLimit } : {}),
    ...(sig.link?.length ? { link: sig.link } : {}),
    ...(sig.linkError?.length ? { linkError: sig.linkError } : {}),
    ...(chain.length > 0 ? { chain: [...chain] } : {}),
    retries: 0,
    parentId: from.id,
    rootId: from.rootId,
    sentAt: new Date(now).toISOString(),
    ...(from.celery ? { celery: { protocol: 2 as const } } : {}),
  };
}

/** A success: its chain's next part and its links, the result first in mutable ones. */
export function afterSuccess(envelope: Envelope, record: TaskResultRecord, now: number): NextPart[] {
  const from = senderOf(envelope);
  const value = record.result === undefined ? null : (JSON.parse(record.result) as unknown);
  const [next, ...rest] = envelope.chain ?? [];
  const parts: NextPart[] = next
    ? [{ kind: 'chain', envelope: envelopeOfSignature(next, from, now, { value }, rest), rest }]
    : [];
  for (const sig of envelope.link ?? [])
    parts.push({ kind: 'link', envelope: envelopeOfSignature(sig, from, now, { value }), rest: [] });
  return parts;
}

/**
 * The rows of chain members that will never run because `failedId` did not succeed: each gets
 * its state and error (Celery's `mark_as_failure` on the rest of the chain), its parent the member
 * before it, so `celerity result` walks the chain whole.
 */
export function unrunRows(
  failedId: string,
  rest: readonly Signature[],
  outcome: Pick<TaskResultRecord, 'status' | 'errorType' | 'traceback' | 'result'>,
  now: number,
  expiresAt: number,
): TaskResultRecord[] {
  const at = new Date(now).toISOString();
  return rest.map((sig, i) => ({
    taskId: sig.id,
    taskName: sig.task,
    status: outcome.status,
    ...(outcome.errorType !== undefined ? { errorType: outcome.errorType } : {}),
    ...(outcome.traceback !== undefined ? { traceback: outcome.traceback } : {}),
    ...(outcome.result !== undefined ? { result: outcome.result } : {}),
    args: JSON.stringify(sig.args ?? []),
    kwargs: JSON.stringify(sig.kwargs ?? {}),
    ...(sig.queue ? { queue: sig.queue } : {}),
    parentId: i === 0 ? failedId : (rest[i - 1] as Signature).id,
    ...(i + 1 < rest.length ? { children: [(rest[i + 1] as Signature).id] } : {}),
    retries: 0,
    dateCreated: at,
    dateDone: at,
    expiresAt,
  }));
}

/**
 * The errbacks of a task that failed and of the chain members that now never run, each with the
 * id of the task it belongs to first (Celery's errback form that works across processes: the
 * errback reads the error from that id's row). A signature linked to several members (the same id)
 * is sent once, for the first.
 */
export function errbacks(envelope: Envelope, now: number): NextPart[] {
  const from = senderOf(envelope);
  const owners: { id: string; linkError: readonly Signature[] }[] = [
    { id: envelope.id, linkError: envelope.linkError ?? [] },
    ...(envelope.chain ?? []).map((sig) => ({ id: sig.id, linkError: sig.linkError ?? [] })),
  ];
  const seen = new Set<string>();
  const parts: NextPart[] = [];
  for (const owner of owners) {
    for (const sig of owner.linkError) {
      if (seen.has(sig.id)) continue;
      seen.add(sig.id);
      parts.push({
        kind: 'linkError',
        envelope: envelopeOfSignature(sig, { ...from, id: owner.id }, now, { value: owner.id }),
        rest: [],
      });
    }
  }
  return parts;
}
