export { decodeEnvelope, encodeEnvelope } from './codec.ts';
export { EnvelopeError, MessageTooLarge, MessageTooLargeError } from './errors.ts';
export { envelopeJsonSchema } from './json-schema.ts';
export type { Envelope, EnvelopeInput } from './schema.ts';
export { ENVELOPE_VERSION, envelopeSchema } from './schema.ts';
