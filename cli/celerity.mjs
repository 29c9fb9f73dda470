#!/usr/bin/env node
// The `celerity` command (package.json `bin`): runs cli/main.ts through the repo's tsx loader, in
// this process, on the Node the repo pins (the `node` devDependency that npm scripts and npx use).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const major = Number(process.versions.node.split('.')[0]);
if (major < 22) {
  // Run directly (not through npx) with an older system Node: hand over to the pinned one.
  const pinned = fileURLToPath(new URL('../node_modules/node/bin/node', import.meta.url));
  if (!process.env.CELERITY_NODE_HANDOFF && existsSync(pinned)) {
    const self = fileURLToPath(import.meta.url);
    const run = spawnSync(pinned, [self, ...process.argv.slice(2)], {
      stdio: 'inherit',
      env: { ...process.env, CELERITY_NODE_HANDOFF: '1' },
    });
    process.exit(run.status ?? 1);
  }
  process.stderr.write(
    `celerity: needs Node 22.12 or later (this is ${process.version}); run it as \`npx celerity\`\n`,
  );
  process.exit(2);
}

const { register } = await import('tsx/esm/api');
register();
await import('./main.ts');
