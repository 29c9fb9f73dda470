import * as zod from 'zod/mini';
import en from 'zod/v4/locales/en.js';

// zod's "mini" build: the same schemas and JSON Schema export at a fraction of the classic build's
// start-up cost, which every cold Lambda pays. It ships without messages; English is set here once.
// Importers write `import * as z from '../schema.ts'` so the bundler keeps only what they use.
zod.config(en());

export * from 'zod/mini';
