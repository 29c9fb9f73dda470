import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { build, type Metafile } from 'esbuild';
import {
  BUILTIN_SHIMS,
  BUNDLE_BANNER,
  BUNDLE_OPTIONS,
  CREDENTIAL_CHAIN_EXTERNALS,
} from '../infra/constructs/bundling.ts';
import { PROJECT_ROOT } from '../infra/constructs/function.ts';

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
  /** esbuild's account of what went in, for asking what a bundle carries. */
  metafile: Metafile;
}

/**
 * Where the AWS SDK comes from: `bundled` as the stack deploys it (`bundleAwsSDK`), or `runtime`,
 * left out as CDK's default does and loaded from node_modules, as the Lambda runtime loads its own.
 */
export type SdkPlacement = 'bundled' | 'runtime';

export interface MeasureOptions {
  /** Fresh processes to time; 0 bundles without timing. @default COLD_STARTS */
  runs?: number;
  /** @default 'bundled' */
  sdk?: SdkPlacement;
}

/** At least ten fresh processes, as issue #10 asks; odd, so the median is one of them. */
export const COLD_STARTS = 11;

const median = (values: readonly number[]) =>
  [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)] ?? 0;

/**
 * Bundles an entry as the stack does (the options of infra/constructs/bundling.ts) and times its
 * module initialisation in fresh Node processes: the part of a cold start the code controls.
 * With the SDK left to the runtime, each process loads it from the project's node_modules.
 */
export async function measureBundle(entry: string, options: MeasureOptions = {}): Promise<BundleFigures> {
  const { runs = COLD_STARTS, sdk = 'bundled' } = options;
  const dir = mkdtempSync(join(tmpdir(), 'celerity-bundle-'));
  try {
    const outfile = join(dir, 'index.mjs');
    if (sdk === 'runtime') symlinkSync(join(PROJECT_ROOT, 'node_modules'), join(dir, 'node_modules'), 'dir');
    const { metafile } = await build({
      ...BUNDLE_OPTIONS,
      mainFields: [...BUNDLE_OPTIONS.mainFields],
      absWorkingDir: PROJECT_ROOT,
      entryPoints: [entry],
      bundle: true,
      alias: { ...BUILTIN_SHIMS },
      external: sdk === 'runtime' ? ['@aws-sdk/*'] : [...CREDENTIAL_CHAIN_EXTERNALS],
      outfile,
      metafile: true,
      banner: { js: BUNDLE_BANNER },
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
      metafile,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

export function measureWorkerBundle(options: MeasureOptions = {}): Promise<BundleFigures> {
  return measureBundle('functions/worker.ts', options);
}

const kb = (bytes: number) => Math.round(bytes / 1000).toLocaleString('en-US');
const ms = (figures: BundleFigures) =>
  `${Math.round(figures.coldInitMs)} ms wall, ${Math.round(figures.coldInitCpuMs)} ms CPU`;

/**
 * The bundle lines of `npm run bench` (alone: `npm run bench -- bundles`). Sizes in KB (1,000
 * bytes), as the targets are written. First the figure of what the stack deploys (the SDK
 * bundled), then the same entry with the SDK left to the runtime (CDK's default), the
 * alternative the stack was chosen against: see docs/decisions.md, "The worker bundle, as deployed".
 */
export async function describeBundles(): Promise<string[]> {
  const worker = await measureWorkerBundle();
  const workerRuntimeSdk = await measureWorkerBundle({ sdk: 'runtime' });
  const producer = await measureBundle('bench/producer-entry.ts', { runs: 0 });
  const producerRuntimeSdk = await measureBundle('bench/producer-entry.ts', { runs: 0, sdk: 'runtime' });
  const admin = await measureBundle('functions/admin.ts');
  return [
    `worker bundle (functions/worker.ts as the stack deploys it: ESM, minified with names kept, AWS SDK bundled): ${kb(worker.bytes)} KB (${kb(worker.gzipBytes)} KB gzip, the SDK ${kb(worker.sdkBytes)} KB of it); with the SDK left to the runtime: ${kb(workerRuntimeSdk.bytes)} KB (target <= 250 KB)`,
    `worker cold module init, as deployed: ${ms(worker)}; with the SDK loaded from the runtime's node_modules: ${ms(workerRuntimeSdk)} (medians of ${worker.samples.length} fresh node processes; target <= 80 ms)`,
    `producer-only bundle (bench/producer-entry.ts: one task defined, delay() called; SDK bundled): ${kb(producer.bytes)} KB (${kb(producer.gzipBytes)} KB gzip, the SDK ${kb(producer.sdkBytes)} KB of it); with the SDK left to the runtime: ${kb(producerRuntimeSdk.bytes)} KB (target <= 150 KB)`,
    `admin API bundle (functions/admin.ts as deployed: Hono, the routes, zod, the SDK): ${kb(admin.bytes)} KB (${kb(admin.gzipBytes)} KB gzip, the SDK ${kb(admin.sdkBytes)} KB of it); cold module init ${ms(admin)}`,
  ];
}
