import type { EnvelopeInput } from '../envelope/schema.ts';
import type { GroupField, Signature } from '../envelope/signature.ts';
import { envelopeOfSignature } from './next-parts.ts';

/**
 * The message a signature of a group or chord sends: a chain's part as `envelopeOfSignature`
 * makes it (`first` before its args unless it is immutable, the delay its countdown asks for),
 * with its group membership, and a parent only when one sent it (a group member has none).
 */
export function signatureEnvelope(
  signature: Signature,
  options: {
    now: number;
    first?: { value: unknown };
    group?: GroupField;
    parentId?: string;
    rootId?: string;
  },
): EnvelopeInput {
  const { parentId: _none, ...envelope } = envelopeOfSignature(
    signature,
    { id: options.parentId ?? signature.id, rootId: options.rootId ?? signature.id },
    options.now,
    options.first,
  );
  return {
    ...envelope,
    ...(options.parentId ? { parentId: options.parentId } : {}),
    ...(options.group ? { group: options.group } : {}),
  };
}
