import { ConfigEnv } from './env.ts';

/**
 * The stack's outputs, the one contract between the stack that writes them (`infra/stack.ts`) and
 * the CLI that reads them with DescribeStacks (`cli/target.ts`). Plain, export-free keys: a stack
 * may be deployed many times in one account.
 */
export const StackOutput = {
  /** JSON array of the route queues' names: the key of every per-route output derives from one. */
  routes: 'RouteQueues',
  resultsTable: 'ResultsTableName',
  /** Only with the stack's `celeryResults`: the table a Celery app's `dynamodb://` URL names. */
  celeryResultsTable: 'CeleryResultsTableName',
  rateLimitTable: 'RateLimitTableName',
  schedulerGroup: 'SchedulerGroupName',
  schedulerRoleArn: 'SchedulerRoleArn',
  schedulerDlqUrl: 'SchedulerDlqUrl',
  schedulerDlqArn: 'SchedulerDlqArn',
  periodicTasksTable: 'PeriodicTasksTableName',
  periodicScheduleGroup: 'PeriodicScheduleGroupName',
  beatSyncFunction: 'BeatSyncFunctionName',
  beatSyncLogGroup: 'BeatSyncLogGroupName',
  beatSyncFailureQueueUrl: 'BeatSyncFailureQueueUrl',
  /** The admin API's function URL, and the secrets holding its two bearer tokens. */
  adminUrl: 'AdminApiUrl',
  adminTokenSecretArn: 'AdminTokenSecretArn',
  viewerTokenSecretArn: 'ViewerTokenSecretArn',
} as const;

/** Each route's outputs: the key is this prefix and the route's `routeKey` (`QueueUrlNotifications`). */
export const RouteOutput = {
  queueUrl: 'QueueUrl',
  queueArn: 'QueueArn',
  dlqUrl: 'DlqUrl',
  dlqArn: 'DlqArn',
  workerFunction: 'WorkerFunctionName',
  workerLogGroup: 'WorkerLogGroupName',
} as const;

export type RouteOutputKind = keyof typeof RouteOutput;

/**
 * A route queue's name as an id: `bulk-email` → `BulkEmail`. Output keys (and construct ids) allow
 * only letters and digits, so the name itself travels in the `RouteQueues` output.
 */
export function routeKey(route: string): string {
  return route
    .split(/[-_]/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}

export function routeOutputKey(kind: RouteOutputKind, route: string): string {
  return `${RouteOutput[kind]}${routeKey(route)}`;
}

/** One route's resources as the outputs give them. */
export interface RouteOutputs {
  queueUrl: string;
  queueArn: string;
  dlqUrl?: string;
  dlqArn?: string;
  workerFunction?: string;
  workerLogGroup?: string;
}

/** The outputs read back: every route by its name, and the rest by their `StackOutput` names. */
export interface StackOutputs {
  routes: Record<string, RouteOutputs>;
  values: Partial<Record<keyof typeof StackOutput, string>>;
}

/**
 * The route names the outputs list. A stack deployed before `RouteQueues` existed names none: its
 * routes are taken from the `QueueUrl…` keys, lower-camel-cased, which is right for one-word names.
 */
function routeNames(outputs: Readonly<Record<string, string>>): string[] {
  const listed = outputs[StackOutput.routes];
  const names = listed ? parseLoose(listed) : undefined;
  if (Array.isArray(names)) return names.filter((name): name is string => typeof name === 'string');
  return Object.keys(outputs)
    .filter((key) => key.startsWith(RouteOutput.queueUrl) && key.length > RouteOutput.queueUrl.length)
    .map((key) => {
      const suffix = key.slice(RouteOutput.queueUrl.length);
      return suffix[0]?.toLowerCase() + suffix.slice(1);
    });
}

function parseLoose(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** DescribeStacks' `OutputKey → OutputValue` map, read by the contract above. */
export function readStackOutputs(outputs: Readonly<Record<string, string>>): StackOutputs {
  const routes: Record<string, RouteOutputs> = {};
  for (const route of routeNames(outputs)) {
    const read = (kind: RouteOutputKind) => outputs[routeOutputKey(kind, route)] || undefined;
    const queueUrl = read('queueUrl');
    const queueArn = read('queueArn');
    if (!queueUrl || !queueArn) continue;
    const found: RouteOutputs = { queueUrl, queueArn };
    for (const kind of ['dlqUrl', 'dlqArn', 'workerFunction', 'workerLogGroup'] as const) {
      const value = read(kind);
      if (value) found[kind] = value;
    }
    routes[route] = found;
  }
  const values: StackOutputs['values'] = {};
  for (const [name, key] of Object.entries(StackOutput) as [keyof typeof StackOutput, string][]) {
    if (outputs[key]) values[name] = outputs[key];
  }
  return { routes, values };
}

/** The outputs as the CELERITY_* environment the stack gives a worker (see `ConfigEnv`). */
export function environmentOfOutputs(read: StackOutputs): Record<string, string> {
  const queues = Object.fromEntries(
    Object.entries(read.routes).map(([route, r]) => [route, { url: r.queueUrl, arn: r.queueArn }]),
  );
  const env: Record<string, string> = { [ConfigEnv.queues]: JSON.stringify(queues) };
  const take = (variable: string, value: string | undefined) => {
    if (value) env[variable] = value;
  };
  const v = read.values;
  take(ConfigEnv.resultsTable, v.resultsTable);
  take(ConfigEnv.celeryResultsTable, v.celeryResultsTable);
  take(ConfigEnv.rateLimitTable, v.rateLimitTable);
  take(ConfigEnv.schedulerGroup, v.schedulerGroup);
  take(ConfigEnv.schedulerRoleArn, v.schedulerRoleArn);
  take(ConfigEnv.schedulerDeadLetterArn, v.schedulerDlqArn);
  take(ConfigEnv.periodicTasksTable, v.periodicTasksTable);
  take(ConfigEnv.periodicScheduleGroup, v.periodicScheduleGroup);
  return env;
}
