import type { EnvelopeInput } from '../envelope/schema.ts';
import type { GroupField, Signature } from '../envelope/signature.ts';

/**
 * The message a signature sends: its id, call and follow-ups as they are, `args` with what the
 * canvas puts first (a parent's result, a chord's results, a failed task's id) unless the
 * signature is immutable, and the delay its countdown asks for from `now`.
 */
export function signatureEnvelope(
  signature: Signature,
  options: {
    now: number;
    first?: readonly unknown[];
    group?: GroupField;
    parentId?: string;
    rootId?: string;
  },
): EnvelopeInput {
  const { task, id, args = [], kwargs = {}, immutable, queue, countdown, expires } = signature;
  const first = immutable ? [] : (options.first ?? []);
  return {
    v: 1,
    id,
    task,
    args: [...first, ...args],
    kwargs,
    ...(queue ? { queue } : {}),
    ...(countdown ? { eta: new Date(options.now + countdown * 1000).toISOString() } : {}),
    ...(expires ? { expires } : {}),
    ...(signature.timeLimit ? { timeLimit: signature.timeLimit } : {}),
    ...(signature.softTimeLimit ? { softTimeLimit: signature.softTimeLimit } : {}),
    ...(signature.link?.length ? { link: signature.link } : {}),
    ...(signature.linkError?.length ? { linkError: signature.linkError } : {}),
    ...(signature.chain?.length ? { chain: signature.chain } : {}),
    ...(options.group ? { group: options.group } : {}),
    ...(options.parentId ? { parentId: options.parentId } : {}),
    rootId: options.rootId ?? id,
    sentAt: new Date(options.now).toISOString(),
  };
}
