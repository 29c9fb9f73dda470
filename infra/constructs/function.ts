import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Duration } from 'aws-cdk-lib';
import { Role, ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Architecture, type CfnFunction, Runtime, type VersionOptions } from 'aws-cdk-lib/aws-lambda';
import { NodejsFunction, OutputFormat } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { ILogGroup } from 'aws-cdk-lib/aws-logs';
import type { Construct } from 'constructs';
import {
  BUILTIN_SHIMS,
  BUNDLE_BANNER,
  BUNDLE_OPTIONS,
  CREDENTIAL_CHAIN_EXTERNALS,
  copyLazyPackages,
} from './bundling.ts';

/** The repository root: entries and the lock file are found from here whatever the cwd. */
export const PROJECT_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

/**
 * CloudFormation metadata keys that let the local runner map resources to routes and handlers
 * without guessing from logical ids.
 */
export const CelerityMetadata = {
  /** On a Celerity `AWS::Lambda::Function`: the entry file, relative to the repository root. */
  entry: 'celerity:entry',
  /** On a Celerity `AWS::Lambda::Function`: the exported handler name in the entry. */
  handler: 'celerity:handler',
  /** On a task queue's `AWS::SQS::Queue` (and its worker function): the route queue name. */
  route: 'celerity:route',
  /** On a DLQ's `AWS::SQS::Queue`: the route whose queue dead-letters into it. */
  dlqOf: 'celerity:dlqOf',
  /** On the scheduler's DLQ (`true`): where failed one-time schedule deliveries land. */
  schedulerDlq: 'celerity:schedulerDlq',
  /** On a resource that is one of a kind in the stack: which part it is (see `CelerityComponent`). */
  component: 'celerity:component',
  /** On an `AWS::SQS::Queue`: the component whose failed stream batches and async invocations land here. */
  failureDestinationOf: 'celerity:failureDestinationOf',
} as const;

/** Values of `celerity:component` (and of `celerity:failureDestinationOf`). */
export const CelerityComponent = {
  /** The periodic-tasks `AWS::DynamoDB::Table`. */
  periodicTasks: 'periodic-tasks',
  /** The `AWS::Scheduler::ScheduleGroup` of periodic schedules (not the one of delayed tasks). */
  periodicSchedules: 'periodic-schedules',
  /** The `AWS::Lambda::Function` that keeps the periodic schedules in step with the table. */
  beatSync: 'beat-sync',
  /** The admin API's `AWS::Lambda::Function` (the local cloud serves it on localhost). */
  admin: 'admin',
} as const;

export interface CelerityFunctionProps {
  /** Entry file relative to the repository root. */
  readonly entry: string;
  /** The exported handler name in the entry. */
  readonly handler: string;
  readonly description: string;
  readonly memorySize: number;
  readonly timeout: Duration;
  readonly logGroup: ILogGroup;
  /** @default {} */
  readonly environment?: Record<string, string>;
  /** @default none */
  readonly currentVersionOptions?: VersionOptions;
  /**
   * Folders copied into the bundle as they are (`from` relative to the repository root, `to` to
   * the bundle's root), for files the code reads next to itself (the admin dashboard's).
   * @default none
   */
  readonly assets?: readonly { from: string; to: string }[];
}

/**
 * A Celerity Lambda: Node 22 on arm64, bundled the one way every entry is, and marked with the
 * `celerity:entry`/`celerity:handler` metadata the local runner starts it from.
 */
export function celerityFunction(scope: Construct, id: string, props: CelerityFunctionProps): NodejsFunction {
  // Its own role rather than AWSLambdaBasicExecutionRole, which may write to any log group: this
  // one may write only to the function's own group.
  const role = new Role(scope, `${id}Role`, {
    assumedBy: new ServicePrincipal('lambda.amazonaws.com'),
    description: props.description,
  });
  props.logGroup.grantWrite(role);
  const fn = new NodejsFunction(scope, id, {
    role,
    description: props.description,
    entry: resolve(PROJECT_ROOT, props.entry),
    handler: props.handler,
    projectRoot: PROJECT_ROOT,
    depsLockFilePath: resolve(PROJECT_ROOT, 'package-lock.json'),
    runtime: Runtime.NODEJS_22_X,
    architecture: Architecture.ARM_64,
    memorySize: props.memorySize,
    timeout: props.timeout,
    logGroup: props.logGroup,
    environment: { ...props.environment },
    ...(props.currentVersionOptions ? { currentVersionOptions: props.currentVersionOptions } : {}),
    bundling: {
      format: OutputFormat.ESM, // BUNDLE_OPTIONS.format
      target: BUNDLE_OPTIONS.target,
      minify: BUNDLE_OPTIONS.minify,
      // `autoretryFor: ['SomeError']` matches `error.constructor.name`, and a result's traceback
      // names the functions it passed through: minified names would break the one and garble the
      // other. (Methods' frames still show the minified class: `t.run` for `Runner.run`.) No
      // source maps: `--enable-source-maps` costs about 35 ms of every cold start.
      keepNames: BUNDLE_OPTIONS.keepNames,
      // The SDK is bundled, not left to the runtime's copy (CDK's default for Node 18+), for the
      // cold start: measured by `npm run bench -- bundles`, the worker is 485 KB with 69–76 ms of
      // CPU to initialise bundled, 151 KB but 183–206 ms with the runtime's SDK (whole CommonJS
      // clients). So the deployed worker misses the 250 KB target and meets the 80 ms one; see
      // docs/decisions.md, "The worker bundle, as deployed". Full minification against
      // whitespace and syntax only: a third fewer bytes, the same start-up.
      bundleAwsSDK: true,
      // ...except the credential providers only import()ed when the environment has no
      // credentials, which never happens on Lambda.
      externalModules: [...CREDENTIAL_CHAIN_EXTERNALS],
      // Prefer the ESM builds of dependencies so esbuild can tree-shake them.
      mainFields: [...BUNDLE_OPTIONS.mainFields],
      esbuildArgs: {
        '--alias': Object.entries(BUILTIN_SHIMS).map(([builtin, shim]) => `${builtin}=${shim}`),
      },
      banner: BUNDLE_BANNER,
      commandHooks: {
        beforeBundling: () => [],
        beforeInstall: () => [],
        afterBundling: (inputDir, outputDir) => [
          ...copyLazyPackages(inputDir, outputDir),
          ...(props.assets ?? []).flatMap(({ from, to }) => [
            `mkdir -p "${outputDir}/${to}"`,
            `cp -R "${inputDir}/${from}/." "${outputDir}/${to}/"`,
          ]),
        ],
      },
    },
  });
  const cfnFunction = fn.node.defaultChild as CfnFunction;
  cfnFunction.addMetadata(CelerityMetadata.entry, props.entry);
  cfnFunction.addMetadata(CelerityMetadata.handler, props.handler);
  return fn;
}
