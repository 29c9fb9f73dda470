import type { CloudWatchLogsClient } from '@aws-sdk/client-cloudwatch-logs';
import {
  type FoundStateFile,
  isAlive,
  isLoopback,
  type LocalState,
  locateStateFile,
  logDirOf,
  readState,
  survivingEmulator,
} from '../localstack/dev/state-file.ts';
import { type AwsClients, clientSettings, createAwsClients } from '../shared/aws/clients.ts';
import { controlClientsOf } from '../shared/aws/control-clients.ts';
import { type CelerityConfig, functionConfig } from '../shared/config/config.ts';
import { environmentOfOutputs, readStackOutputs, type StackOutputs } from '../shared/config/stack-outputs.ts';
import type { OpsContext } from '../shared/ops/context.ts';
import { cloudWatchOldestAge } from '../shared/ops/oldest-age.ts';
import { defaultRegistry } from '../shared/task/registry.ts';
import { StateFileRefusedError, TargetUnreachableError, UsageError } from './errors.ts';

export type LogSource =
  | { kind: 'files'; dir: string }
  | { kind: 'cloudwatch'; client: CloudWatchLogsClient; worker: string[]; beat: string[] };

/** Where commands act: the local cloud or a deployed stack, as one configuration and one set of clients. */
export interface Target {
  kind: 'local' | 'stack';
  /**
   * Where commands act, in one line: `the local cloud at http://127.0.0.1:4566` (with its state
   * file when that was not found here), or `stack Celerity in eu-west-1, account 123456789012`.
   */
  where: string;
  /** The local cloud's state file came from a parent folder: say so even when only reading. */
  fromParentFolder?: boolean;
  ctx: OpsContext;
  clients: AwsClients;
  logs: LogSource;
}

export interface TargetOptions {
  local?: boolean;
  stack?: string;
}

export const DEFAULT_STACK = 'Celerity';

/** The resource locations, as a worker's environment gives them, with the app's settings. */
export function configFrom(environment: Record<string, string | undefined>): CelerityConfig {
  return functionConfig(environment);
}

export async function resolveTarget(
  options: TargetOptions,
  env: NodeJS.ProcessEnv = process.env,
): Promise<Target> {
  if (options.local && options.stack) throw new UsageError('--local and --stack: give one or the other');
  const stateFile = options.stack ? undefined : locateStateFile(process.cwd(), env);
  if (options.local || (!options.stack && stateFile)) return localTarget(stateFile);
  return stackTarget(options.stack ?? DEFAULT_STACK);
}

async function localTarget(found: FoundStateFile | undefined): Promise<Target> {
  if (!found) {
    throw new TargetUnreachableError(
      'no local cloud found (.celerity/local.json): start it with `npm run dev`, or use --stack NAME for a deployed stack',
    );
  }
  const stateFile = found.file;
  let state: LocalState;
  try {
    state = readState(stateFile);
  } catch (error) {
    throw new TargetUnreachableError(
      `${(error as Error).message}; start the local cloud with \`npm run dev\``,
    );
  }
  // The local cloud takes any credentials, and the CLI signs with the user's own where it finds
  // them: a state file that sends them to another host is refused, whoever wrote it.
  if (!isLoopback(state.endpoint)) throw new StateFileRefusedError(stateFile, state.endpoint);
  if (!isAlive(state.pid)) throw new TargetUnreachableError(await notRunning(stateFile, state));
  await probe(state.endpoint);
  // The emulator takes any key; the SDK only needs some to sign with.
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  const clients = createAwsClients({ endpoint: state.endpoint, region: state.region });
  const via =
    found.origin === 'parent'
      ? ` (state file ${stateFile}, found in a parent folder)`
      : found.origin === 'env'
        ? ` (state file ${stateFile}, from CELERITY_STATE_FILE)`
        : '';
  return {
    kind: 'local',
    where: `the local cloud at ${state.endpoint}${via}`,
    ...(found.origin === 'parent' ? { fromParentFolder: true } : {}),
    ctx: {
      config: configFrom(state.environment),
      clients,
      registry: defaultRegistry,
      ...(state.failureQueues ? { failureQueues: state.failureQueues } : {}),
    },
    clients,
    logs: { kind: 'files', dir: logDirOf(stateFile) },
  };
}

/**
 * What the next `npm run dev` will do, said before it is done: carry on with the emulator the
 * stopped run left (its queued tasks, results and periodic tasks), or start an empty one.
 */
async function notRunning(stateFile: string, state: LocalState): Promise<string> {
  const stopped = `the local cloud in ${stateFile} (pid ${state.pid}) is not running`;
  const survivor = await survivingEmulator(state);
  if (!survivor) return `${stopped}: start it with \`npm run dev\``;
  return (
    `${stopped}, but its emulator (pid ${survivor.pid}, ${survivor.endpoint}) is, with its queued tasks, results and periodic tasks: ` +
    '`npm run dev` carries on with them (what was in flight runs again at once); `npm run dev -- --fresh` discards them'
  );
}

async function probe(endpoint: string): Promise<void> {
  try {
    await fetch(endpoint, { signal: AbortSignal.timeout(3000) });
  } catch (error) {
    throw new TargetUnreachableError(
      `cannot reach the local cloud at ${endpoint} (${(error as Error).message}): is \`npm run dev\` still running?`,
      { cause: error },
    );
  }
}

/**
 * Reads the deployed stack's outputs (CloudFormation DescribeStacks) into the environment a worker
 * is given, so both targets make their configuration the same way.
 */
async function stackTarget(stackName: string): Promise<Target> {
  const settings = clientSettings();
  // Loaded only for a stack: the local target (and every CLI start) does without them.
  const { CloudFormationClient, DescribeStacksCommand } = await import('@aws-sdk/client-cloudformation');
  const { CloudWatchLogsClient } = await import('@aws-sdk/client-cloudwatch-logs');
  const cfn = new CloudFormationClient(settings);
  try {
    const { Stacks = [] } = await cfn.send(new DescribeStacksCommand({ StackName: stackName }));
    const stack = Stacks[0];
    if (!stack) throw new Error('no such stack');
    const outputs = readStackOutputs(
      Object.fromEntries((stack.Outputs ?? []).map((o) => [o.OutputKey ?? '', o.OutputValue ?? ''])),
    );
    const clients = createAwsClients();
    const config = configFrom(environmentOfOutputs(outputs));
    return {
      kind: 'stack',
      where: stackWhere(stackName, stack.StackId, settings.region),
      ctx: {
        config,
        clients,
        registry: defaultRegistry,
        failureQueues: stackFailureQueues(outputs),
        // As the admin API shows it: CloudWatch's figure, null (`-`) where it has none or the
        // user may not read metrics. The local cloud has no SQS metrics, so it goes without.
        oldestAgeSeconds: cloudWatchOldestAge(
          () => controlClientsOf(clients).cloudwatch,
          Object.values(config.queues).map((q) => q.url),
        ),
      },
      clients,
      logs: {
        kind: 'cloudwatch',
        client: new CloudWatchLogsClient(settings),
        worker: Object.values(outputs.routes).flatMap((r) => (r.workerLogGroup ? [r.workerLogGroup] : [])),
        beat: outputs.values.beatSyncLogGroup ? [outputs.values.beatSyncLogGroup] : [],
      },
    };
  } catch (error) {
    const e = error as Error;
    if (/does not exist|no such stack/.test(e.message)) {
      throw new TargetUnreachableError(
        `stack ${stackName} not found in ${settings.region}: deploy it (npx cdk deploy), pass --stack NAME, or set AWS_REGION / AWS_PROFILE`,
        { cause: error },
      );
    }
    throw error;
  }
}

/** `stack Celerity in eu-west-1, account 123456789012`: the account from the StackId ARN. */
export function stackWhere(name: string, stackId: string | undefined, region: string | undefined): string {
  // arn:aws:cloudformation:<region>:<account>:stack/<name>/<id>
  const [, , , arnRegion, account] = (stackId ?? '').split(':');
  return `stack ${name} in ${arnRegion || region || 'an unknown region'}, account ${account || 'unknown'}`;
}

/** The failure queues that are no route's DLQ, from the stack's outputs. */
export function stackFailureQueues({ values }: StackOutputs): OpsContext['failureQueues'] {
  const scheduler = values.schedulerDlqUrl;
  const beatSync = values.beatSyncFailureQueueUrl;
  return {
    ...(scheduler
      ? { scheduler: { url: scheduler, ...(values.schedulerDlqArn ? { arn: values.schedulerDlqArn } : {}) } }
      : {}),
    ...(beatSync ? { beatSync: { url: beatSync } } : {}),
  };
}
