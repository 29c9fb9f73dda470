import { writeFileSync } from 'node:fs';
import { envelopeJsonSchema } from './json-schema.ts';

const target = new URL('./envelope.schema.json', import.meta.url);
writeFileSync(target, `${JSON.stringify(envelopeJsonSchema(), null, 2)}\n`);
console.log(`wrote ${target.pathname}`);
