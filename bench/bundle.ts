import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface BundleFigures {
  bytes: number;
  gzipBytes: number;
  /** Median over several fresh processes of the time to import the bundle (module init). */
  coldInitMs: number;
  samples: number[];
}

/**
 * Bundles the worker as the stack does (ESM, minified, SDK included) and times its module
 * initialisation in fresh Node processes: the part of a cold start the code controls.
 */
export async function measureWorkerBundle(runs = 7): Promise<BundleFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'celerity-bundle-'));
  try {
    const outfile = join(dir, 'index.mjs');
    await build({
      entryPoints: ['functions/worker.ts'],
      bundle: true,
      // As the stack bundles it: syntax and whitespace minified, names kept, no source map.
      minifySyntax: true,
      minifyWhitespace: true,
      platform: 'node',
      // As the stack's NodejsFunction does for ESM: the SDK's ES modules tree-shake better.
      mainFields: ['module', 'main'],
      target: 'node22',
      format: 'esm',
      outfile,
      banner: {
        js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'silent',
    });
    const code = readFileSync(outfile);
    const probe = join(dir, 'probe.mjs');
    writeFileSync(
      probe,
      `const t = performance.now(); await import(${JSON.stringify(outfile)}); console.log(performance.now() - t);`,
    );
    const env = {
      ...process.env,
      CELERITY_RESULTS_TABLE: 'bench-results',
      CELERITY_RATE_LIMIT_TABLE: 'bench-rates',
      CELERITY_QUEUES: JSON.stringify({
        default: { url: 'http://127.0.0.1:1/q', arn: 'arn:aws:sqs:us-east-1:1:q' },
      }),
      AWS_REGION: 'us-east-1',
    };
    const samples: number[] = [];
    for (let i = 0; i < runs; i++) {
      samples.push(Number(execFileSync(process.execPath, [probe], { env, encoding: 'utf8' }).trim()));
    }
    const sorted = [...samples].sort((a, b) => a - b);
    return {
      bytes: code.length,
      gzipBytes: gzipSync(code).length,
      coldInitMs: sorted[Math.floor(sorted.length / 2)] ?? 0,
      samples,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
