import { ENVELOPE_BOUNDS } from '../envelope/bounds.ts';
import { encodeEnvelope } from '../envelope/codec.ts';
import type { EnvelopeInput } from '../envelope/schema.ts';
import { type Signature, signatureSchema } from '../envelope/signature.ts';
import { fromZodIssues, ValidationError } from '../errors.ts';
import type { TaskCall } from '../producer/call.ts';
import type { Producer } from '../producer/producer.ts';
import type { ResultStore } from '../results/store.ts';
import { CHORD_SHARD_SIZE } from './chord-store.ts';
import { signatureEnvelope } from './group-send.ts';
import { writeGroupRecord } from './group-store.ts';

export interface GroupApplyDeps {
  producer: Producer;
  store: ResultStore;
  /** Seconds the group's record is kept, as results are (the config's `resultExpires`). */
  resultExpires: number;
}

export interface GroupApply {
  groupId: string;
  members: readonly Signature[];
  /** A chord: sent once every member is ready, the members' results first. */
  callback?: Signature;
  origin?: string;
}

/** The call `Producer.check` weighs for a message: routed, its args checked against the task. */
function asCall(envelope: EnvelopeInput): TaskCall {
  return {
    task: envelope.task,
    args: envelope.args ?? [],
    kwargs: envelope.kwargs ?? {},
    taskId: envelope.id,
    ...(envelope.queue ? { queue: envelope.queue } : {}),
    ...(envelope.eta ? { eta: envelope.eta } : {}),
    ...(envelope.expires ? { expires: envelope.expires } : {}),
  };
}

function parsed(signature: Signature, field: string): Signature {
  const result = signatureSchema.safeParse(signature);
  if (!result.success) throw fromZodIssues(field, result.error.issues);
  return result.data;
}

/** Ids must be distinct: a member under another's id would be taken for it and never counted. */
function checkIds(input: GroupApply): void {
  const seen = new Map<string, string>();
  const parts = [
    ...input.members.map((m, i) => [m.id, `members[${i}].id`] as const),
    ...(input.callback ? [[input.callback.id, 'callback.id'] as const] : []),
  ];
  for (const [id, field] of parts) {
    const before = seen.get(id);
    if (before)
      throw ValidationError.of(field, `${JSON.stringify(id)} is also ${before}: every part needs its own id`);
    seen.set(id, field);
  }
}

/**
 * Applies a group (or a chord's header): checks every member (and the callback) as the producer
 * would, writes the group's record (and the chord's, with its callback) before any member is
 * sent, then sends the members in batches (`sendMany`'s ten a request, several at once), each
 * marked `group: {id, index, size, chord?}`. A bad member sends nothing. If SQS refuses some
 * sends, the `EnqueueError` says which: applying the same group again (same ids) sends the rest,
 * and the members that went are not run twice (the worker's id check).
 */
export async function applyGroup(deps: GroupApplyDeps, input: GroupApply): Promise<void> {
  const size = input.members.length;
  if (size > ENVELOPE_BOUNDS.groupSize)
    throw ValidationError.of(
      'members',
      `a group holds at most ${ENVELOPE_BOUNDS.groupSize} members, not ${size}`,
    );
  const members = input.members.map((m, i) => parsed(m, `members[${i}]`));
  const callback = input.callback ? parsed(input.callback, 'callback') : undefined;
  checkIds({ ...input, members, ...(callback ? { callback } : {}) });
  const now = Date.now();
  const chord = callback !== undefined;
  const envelopes = members.map((member, index) => ({
    ...(input.origin ? { origin: input.origin } : {}),
    ...signatureEnvelope(member, {
      now,
      group: { id: input.groupId, index, size, ...(chord ? { chord: true as const } : {}) },
    }),
  }));
  // Errors name the part as the caller gave it: `members[3].args`, `callback.queue`.
  const partOf = (index: number) => (index < size ? `members[${index}]` : 'callback');
  const renamed = (error: unknown, from: RegExp, index?: number) =>
    error instanceof ValidationError
      ? new ValidationError(
          error.issues.map((i) => ({
            ...i,
            field: i.field.replace(from, (_, n) => partOf(index ?? Number(n))),
          })),
          { cause: error },
        )
      : error;
  for (const [index, envelope] of envelopes.entries()) {
    try {
      encodeEnvelope(envelope);
    } catch (error) {
      throw renamed(error, /^envelope/, index);
    }
  }
  // The callback is weighed with an empty results list in front: its args are checked, its queue known.
  const calls = envelopes.map(asCall);
  if (callback) calls.push(asCall(signatureEnvelope(callback, { now, first: { value: [] } })));
  await deps.producer.check(calls).catch((error: unknown) => {
    throw renamed(error, /^calls\[(\d+)\]/);
  });
  if (chord && size === 0) {
    // Celery's chord of no members calls its callback at once, with no results.
    await deps.producer.sendEnvelopes([
      { envelope: signatureEnvelope(callback, { now, first: { value: [] } }) },
    ]);
    return;
  }
  await writeGroupRecord(deps.store.dynamo, deps.store.table, {
    groupId: input.groupId,
    memberIds: members.map((m) => m.id),
    expiresAt: Math.floor(now / 1000) + deps.resultExpires + longestWait(envelopes, now),
    now: new Date(now),
    ...(callback ? { chord: { callback, shardSize: CHORD_SHARD_SIZE } } : {}),
  });
  await deps.producer.sendEnvelopes(envelopes.map((envelope) => ({ envelope })));
}

/** Seconds until the latest member may start: a record must outlast the members that will read it. */
function longestWait(envelopes: readonly EnvelopeInput[], now: number): number {
  let latest = now;
  for (const e of envelopes) if (e.eta) latest = Math.max(latest, Date.parse(e.eta));
  return Math.ceil((latest - now) / 1000);
}
