import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { build } from 'esbuild';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BundleFigures, measureWorkerBundle } from '../../bench/bundle.ts';
import {
  BUNDLE_BANNER,
  BUNDLE_OPTIONS,
  CREDENTIAL_CHAIN_EXTERNALS,
  copyLazyPackages,
} from '../../infra/constructs/bundling.ts';
import { PROJECT_ROOT } from '../../infra/constructs/function.ts';

const inputs = (figures: BundleFigures) => Object.keys(figures.metafile.inputs);

describe('the worker bundle, as the stack deploys it (issue #10, must-show 3)', () => {
  let worker: BundleFigures;
  beforeAll(async () => {
    worker = await measureWorkerBundle({ runs: 0 });
  });

  it('carries no astronomy-engine, though the solar re-arm is still in it', () => {
    expect(inputs(worker).filter((input) => input.includes('node_modules/astronomy-engine/'))).toEqual([]);
    expect(inputs(worker)).toContain('shared/worker/solar-rearm.ts');
  });

  const staticImportsOf = (figures: BundleFigures, external: (path: string) => boolean) =>
    Object.entries(figures.metafile.inputs).flatMap(([input, { imports }]) =>
      imports
        .filter((i) => i.external && i.kind !== 'dynamic-import' && external(i.path))
        .map((i) => `${input} -> ${i.path}`),
    );

  it('carries no client of the admin API and CLI only (Secrets Manager, CloudWatch)', () => {
    const control = inputs(worker).filter((input) =>
      /node_modules\/@aws-sdk\/client-(secrets-manager|cloudwatch)\//.test(input),
    );
    expect(control).toEqual([]);
  });

  it('never imports node:http as an ES module (its namespace would load undici at every cold start)', () => {
    expect(staticImportsOf(worker, (path) => /^(node:)?http$/.test(path))).toEqual([]);
  });

  it('reaches the credential providers it leaves to the runtime only by import(), never at start', () => {
    expect(staticImportsOf(worker, (path) => CREDENTIAL_CHAIN_EXTERNALS.includes(path))).toEqual([]);
    expect(inputs(worker).filter((input) => input.includes('node_modules/@aws-sdk/nested-clients/'))).toEqual(
      [],
    );
  });
});

describe('a bundle that plans a solar schedule', () => {
  const dir = mkdtempSync(join(tmpdir(), 'celerity-solar-bundle-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('finds the event with astronomy-engine copied beside it, as the stack copies it', async () => {
    const entry = join(dir, 'entry.ts');
    const outfile = join(dir, 'index.mjs');
    writeFileSync(entry, SOLAR_ENTRY);
    await build({
      ...BUNDLE_OPTIONS,
      mainFields: [...BUNDLE_OPTIONS.mainFields],
      absWorkingDir: PROJECT_ROOT,
      entryPoints: [entry],
      bundle: true,
      outfile,
      banner: { js: BUNDLE_BANNER },
      logLevel: 'silent',
    });
    execFileSync('bash', ['-c', copyLazyPackages(PROJECT_ROOT, dir).join(' && ')]);
    // Sunrise in Paris on 1 June 2026: 05:51 local time (CEST).
    expect(execFileSync(process.execPath, [outfile], { encoding: 'utf8' }).trim()).toBe(
      '2026-06-01T03:51:46.000Z',
    );
  });
});

const SOLAR_ENTRY = `import { nextSolarEvent } from '${join(PROJECT_ROOT, 'shared/beat/solar.ts')}';
const event = nextSolarEvent({ event: 'sunrise', latitude: 48.85, longitude: 2.35 }, new Date('2026-06-01T00:00:00Z'));
console.log(event && event.toISOString());`;
