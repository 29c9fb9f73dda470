import * as z from '../schema.ts';
import { envelopeSchema } from './schema.ts';

/** The envelope as JSON Schema (draft 2020-12), for producers that are not TypeScript. */
export function envelopeJsonSchema(): Record<string, unknown> {
  return {
    $id: 'https://celerity.dev/schemas/envelope.v1.json',
    title: 'Celerity task envelope',
    ...z.toJSONSchema(envelopeSchema, { io: 'input', target: 'draft-2020-12' }),
  };
}
