import { fromZodIssues, ValidationError } from '../errors.ts';
import * as z from '../schema.ts';
import { timeZoneProblem } from '../time/zone.ts';
import { ConfigEnv } from './env.ts';

const nonEmpty = () => z.string().check(z.minLength(1));
const queueTarget = z.strictObject({ url: nonEmpty(), arn: nonEmpty() });

/** Where the stack put things: a function is told them in its environment (see `ConfigEnv`). */
const resourceLocationsShape = {
  queues: z.record(nonEmpty(), queueTarget),
  resultsTable: z.optional(nonEmpty()),
  /**
   * The table laid out as Celery's DynamoDB result backend (the stack's `celeryResults`): when set,
   * the worker also writes each Celery-originated task's outcome there, for `AsyncResult` in Python.
   */
  celeryResultsTable: z.optional(nonEmpty()),
  rateLimitTable: z.optional(nonEmpty()),
  scheduler: z.optional(
    z.strictObject({
      groupName: nonEmpty(),
      roleArn: nonEmpty(),
      deadLetterArn: z.optional(nonEmpty()),
    }),
  ),
  beat: z.optional(z.strictObject({ table: nonEmpty(), groupName: nonEmpty() })),
};

/** What the app decides (Celery's `app.conf`): its `configure()` calls set them. */
const appSettingsShape = {
  defaultQueue: nonEmpty(),
  taskRoutes: z.record(nonEmpty(), nonEmpty()),
  timezone: z.string().check(
    // 'UTC' (the default) is always a zone: checking it would load ICU's zone data, about 35 ms of
    // every cold start, before any task needs a zone.
    z.refine((zone) => zone === 'UTC' || timeZoneProblem(zone) === undefined, {
      error: 'is not an IANA time zone name such as Europe/London',
    }),
  ),
  alwaysEager: z.boolean(),
  eagerPropagates: z.boolean(),
  resultExpires: z.int().check(z.positive()),
  poisonRetryDelay: z.int().check(z.minimum(0), z.maximum(43_200)),
  workerConcurrency: z.optional(z.int().check(z.positive(), z.maximum(10_000))),
};

const configSchema = z.strictObject({ ...resourceLocationsShape, ...appSettingsShape });
const resourceLocationsSchema = z.strictObject(resourceLocationsShape);
const appSettingsSchema = z.strictObject(appSettingsShape);

export type ResourceLocations = z.infer<typeof resourceLocationsSchema>;
export type AppSettings = z.infer<typeof appSettingsSchema>;

export type QueueTarget = z.infer<typeof queueTarget>;

/** The app's settings and the resource locations, as one process uses them. */
export type CelerityConfig = AppSettings & ResourceLocations;

/** What `configure()` accepts: any subset of the configuration. Unknown keys are refused. */
export type CelerityConfigInput = Partial<CelerityConfig>;

/** Every default of the configuration, in one place. */
export const configDefaults: CelerityConfig = {
  queues: {},
  /** Celery's `task_default_queue`. */
  defaultQueue: 'default',
  /** Celery's `task_routes`: glob of task names → route queue. */
  taskRoutes: {},
  /** Celery's `timezone` (and `CELERY_TIMEZONE`): the zone of crontabs that name none. */
  timezone: 'UTC',
  /** Celery's `task_always_eager`: run `delay()` inline, for users' own tests. */
  alwaysEager: false,
  /** Celery's `task_eager_propagates`: an eager task's exception is thrown from `delay()`. */
  eagerPropagates: false,
  /** Celery's `result_expires`: one day. */
  resultExpires: 86_400,
  /**
   * Seconds before a message the worker cannot use (not JSON, unknown task, bad args) is delivered
   * again, on its way to the DLQ after `maxReceiveCount` receives. Short, so a bad message is
   * dead-lettered in about a minute; an unknown task from a deploy in progress gets that long too.
   */
  poisonRetryDelay: 15,
  /**
   * How many task bodies one worker invocation runs at once (Celery's worker `concurrency`); unset,
   * all of its batch. The stack sets it per route (`CELERITY_WORKER_CONCURRENCY`), low for heavy work.
   */
  workerConcurrency: undefined,
};

function readEnv(env: NodeJS.ProcessEnv): CelerityConfigInput {
  const fromEnv: CelerityConfigInput = {};
  const queues = env[ConfigEnv.queues];
  if (queues) {
    try {
      fromEnv.queues = JSON.parse(queues);
    } catch (cause) {
      throw new ValidationError([{ field: ConfigEnv.queues, message: 'is not valid JSON' }], { cause });
    }
  }
  if (env[ConfigEnv.resultsTable]) fromEnv.resultsTable = env[ConfigEnv.resultsTable];
  if (env[ConfigEnv.celeryResultsTable]) fromEnv.celeryResultsTable = env[ConfigEnv.celeryResultsTable];
  if (env[ConfigEnv.rateLimitTable]) fromEnv.rateLimitTable = env[ConfigEnv.rateLimitTable];
  const groupName = env[ConfigEnv.schedulerGroup];
  const roleArn = env[ConfigEnv.schedulerRoleArn];
  if (groupName && roleArn) {
    const deadLetterArn = env[ConfigEnv.schedulerDeadLetterArn];
    fromEnv.scheduler = deadLetterArn ? { groupName, roleArn, deadLetterArn } : { groupName, roleArn };
  }
  const table = env[ConfigEnv.periodicTasksTable];
  const periodicGroup = env[ConfigEnv.periodicScheduleGroup];
  if (table && periodicGroup) fromEnv.beat = { table, groupName: periodicGroup };
  if (env[ConfigEnv.timezone]) fromEnv.timezone = env[ConfigEnv.timezone];
  const concurrency = env[ConfigEnv.workerConcurrency];
  if (concurrency) {
    if (!/^[1-9]\d{0,4}$/.test(concurrency)) {
      throw ValidationError.of(
        ConfigEnv.workerConcurrency,
        `must be a whole number from 1, not ${JSON.stringify(concurrency)}`,
      );
    }
    fromEnv.workerConcurrency = Number(concurrency);
  }
  return fromEnv;
}

/** Defaults, then the environment, then what the caller passes; the result is validated whole. */
export function resolveConfig(
  input: CelerityConfigInput = {},
  env: NodeJS.ProcessEnv = process.env,
): CelerityConfig {
  const merged = { ...configDefaults, ...readEnv(env), ...input };
  const parsed = configSchema.safeParse(merged);
  if (!parsed.success) throw fromZodIssues('config', parsed.error.issues);
  return parsed.data;
}

let current: CelerityConfig | undefined;
let overrides: CelerityConfigInput = {};

/**
 * Sets the process-wide configuration, like `app.conf.update(...)` in Celery. Calls accumulate and
 * are checked at once; the environment is read when the configuration is first used, so a module
 * that configures the app on import does not freeze whatever the environment held at that moment.
 */
export function configure(input: CelerityConfigInput): CelerityConfig {
  const next = { ...overrides, ...input };
  const resolved = resolveConfig(next);
  overrides = next;
  current = undefined;
  return resolved;
}

export function getConfig(): CelerityConfig {
  current ??= resolveConfig(overrides);
  return current;
}

/**
 * Runs `load` while `getConfig()` answers `config`, then lets it answer the process's own again.
 * The local cloud imports a function's entry so: what the entry builds at import (its runtime)
 * gets the function's configuration (`functionConfig`), as it would on Lambda.
 */
export async function withConfig<T>(config: CelerityConfig, load: () => Promise<T>): Promise<T> {
  current = config;
  try {
    return await load();
  } finally {
    current = undefined;
  }
}

/** Forgets `configure()` calls; tests use it between cases. */
export function resetConfig(): void {
  current = undefined;
  overrides = {};
}

/**
 * The app settings a function's configuration takes from the app, as a deployed function takes
 * them from the `configure()` calls of the tasks module it bundles. The CLI and the local cloud,
 * which make a function's configuration from its environment, hand on these and only these.
 * `alwaysEager` and `eagerPropagates` are the calling process's own (its tests'); `workerConcurrency`
 * is a route's, from its function's environment.
 */
export const HANDED_ON_SETTINGS = [
  'taskRoutes',
  'defaultQueue',
  'timezone',
  'resultExpires',
  'poisonRetryDelay',
] as const satisfies readonly (keyof AppSettings)[];

/**
 * A function's configuration, made as the function itself makes it: defaults, then its
 * environment (the resource locations, and settings the stack sets there such as
 * `CELERITY_TIMEZONE`), then the app's `configure()` calls — of which the `HANDED_ON_SETTINGS`.
 */
export function functionConfig(
  environment: Readonly<Record<string, string | undefined>>,
  configured: CelerityConfigInput = overrides,
): CelerityConfig {
  const settings = Object.fromEntries(
    HANDED_ON_SETTINGS.filter((name) => configured[name] !== undefined).map((name) => [
      name,
      configured[name],
    ]),
  );
  const given = Object.fromEntries(Object.values(ConfigEnv).map((key) => [key, environment[key]]));
  return resolveConfig(settings, given);
}
