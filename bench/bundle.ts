import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build } from 'esbuild';

export interface BundleFigures {
  entry: string;
  bytes: number;
  gzipBytes: number;
  /** The part of `bytes` that is the AWS SDK (`@aws-sdk/*`, `@smithy/*`), which the stack bundles too. */
  sdkBytes: number;
  /** Median over several fresh processes of the wall time to import the bundle (module init). */
  coldInitMs: number;
  /** The same imports' CPU time (user + system): steadier than wall time on a busy machine. */
  coldInitCpuMs: number;
  samples: number[];
}

/** At least ten fresh processes, as issue #10 asks; odd, so the median is one of them. */
export const COLD_STARTS = 11;

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/**
 * Bundles an entry as the stack does (infra/constructs/function.ts: ESM, syntax and whitespace
 * minified, names kept, the SDK included) and times its module initialisation in fresh Node
 * processes: the part of a cold start the code controls.
 */
export async function measureBundle(entry: string, runs = COLD_STARTS): Promise<BundleFigures> {
  const dir = mkdtempSync(join(tmpdir(), 'celerity-bundle-'));
  try {
    const outfile = join(dir, 'index.mjs');
    const { metafile } = await build({
      entryPoints: [entry],
      bundle: true,
      minifySyntax: true,
      minifyWhitespace: true,
      platform: 'node',
      // As the stack's NodejsFunction does for ESM: the SDK's ES modules tree-shake better.
      mainFields: ['module', 'main'],
      target: 'node22',
      format: 'esm',
      outfile,
      metafile: true,
      banner: {
        js: "import { createRequire } from 'module'; const require = createRequire(import.meta.url);",
      },
      logLevel: 'silent',
    });
    const code = readFileSync(outfile);
    let sdkBytes = 0;
    for (const output of Object.values(metafile.outputs)) {
      for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) {
        if (/node_modules\/(@aws-sdk|@smithy)\//.test(input)) sdkBytes += bytesInOutput;
      }
    }
    const probe = join(dir, 'probe.mjs');
    writeFileSync(
      probe,
      `const c = process.cpuUsage(); const t = performance.now(); await import(${JSON.stringify(outfile)});
const u = process.cpuUsage(c); console.log(performance.now() - t, (u.user + u.system) / 1000);`,
    );
    const env = {
      ...process.env,
      CELERITY_RESULTS_TABLE: 'bench-results',
      CELERITY_RATE_LIMIT_TABLE: 'bench-rates',
      CELERITY_QUEUES: JSON.stringify({
        default: { url: 'http://127.0.0.1:1/q', arn: 'arn:aws:sqs:us-east-1:1:q' },
      }),
      AWS_REGION: 'us-east-1',
      // The admin entry builds its app at import, from the two token secrets' ARNs (read later).
      CELERITY_ADMIN_TOKEN_SECRET: 'arn:aws:secretsmanager:us-east-1:1:secret:admin',
      CELERITY_VIEWER_TOKEN_SECRET: 'arn:aws:secretsmanager:us-east-1:1:secret:viewer',
    };
    const samples: number[] = [];
    const cpu: number[] = [];
    for (let i = 0; i < runs; i++) {
      const [wall, used] = execFileSync(process.execPath, [probe], { env, encoding: 'utf8' })
        .trim()
        .split(' ');
      samples.push(Number(wall));
      cpu.push(Number(used));
    }
    return {
      entry,
      bytes: code.length,
      gzipBytes: gzipSync(code).length,
      sdkBytes,
      coldInitMs: median(samples),
      coldInitCpuMs: median(cpu),
      samples,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function measureWorkerBundle(runs = COLD_STARTS): Promise<BundleFigures> {
  return measureBundle('functions/worker.ts', runs);
}

const kb = (bytes: number) => Math.round(bytes / 1000).toLocaleString('en-US');

/**
 * The bundle lines of `npm run bench` (alone: `npm run bench -- bundles`). Sizes in KB (1,000
 * bytes), as the targets are written; the SDK's share is printed beside them, since the stack
 * bundles the SDK (`bundleAwsSDK`) and a bundle without it is what the targets can be held to.
 */
export async function describeBundles(): Promise<string[]> {
  const worker = await measureWorkerBundle();
  const producer = await measureBundle('bench/producer-entry.ts', 1);
  const admin = await measureBundle('functions/admin.ts');
  return [
    `worker bundle (functions/worker.ts as the stack bundles it: ESM, syntax and whitespace minified, SDK included): ${kb(worker.bytes)} KB (${kb(worker.gzipBytes)} KB gzip), ${kb(worker.bytes - worker.sdkBytes)} KB without the AWS SDK (target <= 250 KB)`,
    `worker cold module init: ${Math.round(worker.coldInitMs)} ms wall, ${Math.round(worker.coldInitCpuMs)} ms CPU (median of ${worker.samples.length} fresh node processes; target <= 80 ms)`,
    `producer-only bundle (bench/producer-entry.ts: one task defined, delay() called): ${kb(producer.bytes)} KB (${kb(producer.gzipBytes)} KB gzip), ${kb(producer.bytes - producer.sdkBytes)} KB without the AWS SDK (target <= 150 KB)`,
    `admin API bundle (functions/admin.ts: Hono, the routes, zod, the SDK): ${kb(admin.bytes)} KB (${kb(admin.gzipBytes)} KB gzip), ${kb(admin.bytes - admin.sdkBytes)} KB without the AWS SDK`,
    `admin API cold module init: ${Math.round(admin.coldInitMs)} ms wall, ${Math.round(admin.coldInitCpuMs)} ms CPU (median of ${admin.samples.length} fresh node processes)`,
  ];
}
