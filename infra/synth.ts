import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { createLabControlStack } from './labcontrol.ts';

export interface SynthOptions {
  /** Bundle the workers with esbuild; off, nothing is bundled and synth takes a second. @default true */
  bundling?: boolean;
  /** @default context `stackName`, else 'Celerity' */
  stackName?: string;
  /**
   * Run aws-cdk-lib's built-in CloudFormation validation (a WASM engine: about 3 s of a cold
   * synth). A caller that synthesizes on every start, such as the local runner, may skip it.
   * @default true
   */
  validate?: boolean;
}

/**
 * The stack's CloudFormation template, synthesized in this process. The local runner provisions
 * its emulator from exactly this, so the template is the one definition of every resource.
 */
export function synthTemplate(options: SynthOptions = {}): Record<string, unknown> {
  const outdir = mkdtempSync(join(tmpdir(), 'celerity-synth-'));
  try {
    const app = new App({
      outdir,
      // An empty list means "bundle no stack": assets keep placeholder hashes.
      context: options.bundling === false ? { 'aws:cdk:bundling-stacks': [] } : {},
      builtinCloudFormationValidation: options.validate ?? true,
    });
    const stack = createLabControlStack(app, options.stackName);
    return app.synth().getStackArtifact(stack.artifactId).template as Record<string, unknown>;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
