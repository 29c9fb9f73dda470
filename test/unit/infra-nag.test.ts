import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterEach, describe, expect, it } from 'vitest';
import { createLabControlStack } from '../../infra/labcontrol.ts';
import type { CelerityStack } from '../../infra/stack.ts';

const SYNTH_TIMEOUT_MS = 60_000;
const outdirs: string[] = [];

/** LabControl's stack under cdk-nag's AwsSolutions pack; `change` may add a fault before synth. */
function synthChecked(change: (stack: CelerityStack) => void = () => {}): void {
  const outdir = mkdtempSync(join(tmpdir(), 'celerity-nag-'));
  outdirs.push(outdir);
  const app = new App({
    outdir,
    context: { 'aws:cdk:bundling-stacks': [] },
    builtinCloudFormationValidation: false,
  });
  change(createLabControlStack(app));
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  app.synth();
}

afterEach(() => {
  for (const outdir of outdirs.splice(0)) rmSync(outdir, { recursive: true, force: true });
});

describe("cdk-nag's AwsSolutions checks", () => {
  it(
    "find nothing unacknowledged in LabControl's stack (every acknowledgement is in infra/nag-suppressions.ts)",
    () => {
      expect(() => synthChecked()).not.toThrow();
    },
    SYNTH_TIMEOUT_MS,
  );

  it(
    'still catch a new wildcard: acknowledgements name the resources they cover',
    () => {
      const widen = (stack: CelerityStack) => {
        const worker = stack.taskQueues.get('default')?.worker;
        worker?.addToRolePolicy(new PolicyStatement({ actions: ['dynamodb:Scan'], resources: ['*'] }));
      };
      expect(() => synthChecked(widen)).toThrow(/AwsSolutions-IAM5|Validation failed/);
    },
    SYNTH_TIMEOUT_MS,
  );
});
