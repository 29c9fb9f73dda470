import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { ValidationError } from '../../shared/errors.ts';
import { activeTasks, listTaskResults, sendTask, sendTasks } from '../../shared/ops/index.ts';
import type { TaskCall } from '../../shared/producer/call.ts';
import type { TaskSummary } from '../../shared/results/indexes.ts';
import { MAX_LIMIT } from '../../shared/results/listing.ts';
import { defaultRegistry } from '../../shared/task/registry.ts';
import type { CliApp } from '../app.ts';
import { ExitCode, flagOf, UsageError } from '../errors.ts';
import { progressBar, runtime, shortTime, table } from '../format.ts';
import {
  atMostOne,
  parseCallLines,
  parseInstant,
  parseJsonArray,
  parseJsonObject,
  parseNumber,
  parseSince,
  parseStates,
} from '../parse.ts';
import {
  describeTask,
  registerResultCommands,
  registerRevoke,
  stateCode,
  TIMEOUT_HELP,
  timeoutOf,
  WAIT_HELP,
  waitForTask,
} from './results.ts';

const ORIGIN = `celerity-cli@${hostname()}`;

interface CallOptions {
  args?: string;
  kwargs?: string;
  countdown?: string;
  eta?: string;
  expires?: string;
  queue?: string;
  taskId?: string;
  wait?: boolean;
  timeout?: string;
  fromFile?: string;
  force?: boolean;
}

export function taskTable(items: readonly TaskSummary[]): string {
  if (items.length === 0) return 'no tasks';
  return table(items, [
    { header: 'ID', value: (t) => t.taskId },
    { header: 'TASK', value: (t) => t.taskName, max: 60 },
    { header: 'STATE', value: (t) => t.status },
    { header: 'CREATED', value: (t) => shortTime(t.dateCreated) },
    { header: 'RUNTIME', value: (t) => runtime(t.dateStarted, t.dateDone) },
    { header: 'RETRIES', value: (t) => t.retries },
    { header: 'QUEUE', value: (t) => t.queue },
    { header: 'ERROR', value: (t) => t.errorType },
  ]);
}

/** The call a command line describes, checked flag by flag before anything is sent. */
export function callFromOptions(task: string, options: CallOptions): TaskCall {
  atMostOne(options, ['countdown', 'eta']);
  const call: TaskCall = { task };
  if (options.args !== undefined) call.args = parseJsonArray('--args', options.args);
  if (options.kwargs !== undefined) call.kwargs = parseJsonObject('--kwargs', options.kwargs);
  if (options.countdown !== undefined)
    call.countdown = parseNumber('--countdown', options.countdown, { min: 0 });
  if (options.eta !== undefined) call.eta = parseInstant('--eta', options.eta);
  if (options.expires !== undefined) {
    call.expires = /^\d+(\.\d+)?$/.test(options.expires)
      ? Number(options.expires)
      : parseInstant('--expires', options.expires);
  }
  if (options.queue !== undefined) call.queue = options.queue;
  if (options.taskId !== undefined) call.taskId = options.taskId;
  return call;
}

export function registerTaskCommands(program: Command, app: CliApp): void {
  program
    .command('call')
    .description("send a task by name (Celery's apply_async); --from-file sends many")
    .argument('<task>', 'the task name, e.g. apps.demo.tasks.add')
    .option('--args <json>', 'positional arguments, a JSON array')
    .option('--kwargs <json>', 'keyword arguments, a JSON object')
    .option('--countdown <seconds>', 'run no sooner than this many seconds from now')
    .option('--eta <iso>', 'run no sooner than this instant (ISO 8601 with a zone)')
    .option('--expires <iso|seconds>', 'revoke instead of running after this instant, or this many seconds')
    .option('--queue <queue>', 'the route queue, instead of the task routes')
    .option('--task-id <id>', 'the task id to use (default: a new UUID)')
    .option('--from-file <file>', 'send one task per {args, kwargs} in a JSON-lines file or JSON array')
    .option('--wait', WAIT_HELP)
    .option('--timeout <seconds>', TIMEOUT_HELP)
    .option('--force', 'send even if the task is not registered in this app')
    .action(
      app.action(async (task: string, options: CallOptions) => {
        if (!options.force && !defaultRegistry.has(task)) {
          throw new UsageError(
            `${task}: is not a registered task (see \`celerity inspect registered\`; --force sends it anyway)`,
          );
        }
        const timeout = timeoutOf(options);
        if (options.fromFile !== undefined) {
          for (const flag of ['args', 'kwargs', 'taskId', 'wait'] as const) {
            if (options[flag] !== undefined) {
              throw new UsageError(
                `--from-file and --${flag.replace('taskId', 'task-id')}: the file gives each call`,
              );
            }
          }
          return callMany(app, task, options);
        }
        const call = callFromOptions(task, options);
        const { ctx } = await app.targetForWrite();
        const sent = await sendTask(ctx, call, ORIGIN);
        if (!options.wait) {
          app.output(
            sent,
            () =>
              `sent ${sent.task} as ${sent.taskId} to ${sent.queue}${sent.eta ? ` (eta ${shortTime(sent.eta)})` : ''}`,
          );
          return ExitCode.ok;
        }
        if (!app.json) app.note(`sent ${sent.task} as ${sent.taskId} to ${sent.queue}`);
        const view = await waitForTask(app, ctx, sent.taskId, timeout);
        app.output({ ...sent, result: view }, () => describeTask(view));
        return stateCode(view);
      }),
    );

  registerResultCommands(program, app);

  program
    .command('tasks')
    .description('recent tasks, newest first, by state and/or name (from the results indexes)')
    .option(
      '--state <states>',
      'PENDING, STARTED, RETRY, SUCCESS, FAILURE, REVOKED or a custom state such as PROGRESS (comma-separated)',
    )
    .option('--name <task>', 'only runs of this task')
    .option('--since <when>', 'created since: 30s, 15m, 2h, 7d, or an ISO date-time')
    .option('--until <when>', 'created before: a span back from now or an ISO date-time')
    .option('--limit <n>', `at most this many rows, 1 to ${MAX_LIMIT}`, '20')
    .option('--cursor <cursor>', 'the next page, as a previous --json listing returned it')
    .action(
      app.action(
        async (options: {
          state?: string;
          name?: string;
          since?: string;
          until?: string;
          limit: string;
          cursor?: string;
        }) => {
          const query = {
            ...(options.state ? { states: parseStates('--state', options.state) } : {}),
            ...(options.name ? { taskName: options.name } : {}),
            ...(options.since ? { since: parseSince('--since', options.since) } : {}),
            ...(options.until ? { until: parseSince('--until', options.until) } : {}),
            limit: parseNumber('--limit', options.limit, { min: 1, max: MAX_LIMIT, integer: true }),
            ...(options.cursor ? { cursor: options.cursor } : {}),
          };
          const { ctx } = await app.target();
          const page = await listTaskResults(ctx, query);
          app.output(
            page,
            () => taskTable(page.items) + (page.cursor ? `\n(more: --cursor ${page.cursor})` : ''),
          );
          return ExitCode.ok;
        },
      ),
    );

  registerRevoke(program, app);
}

async function callMany(app: CliApp, task: string, options: CallOptions): Promise<ExitCode> {
  const file = options.fromFile as string;
  let text: string;
  try {
    text = file === '-' ? readFileSync(0, 'utf8') : readFileSync(file, 'utf8');
  } catch (error) {
    throw new UsageError(
      `--from-file: cannot read ${file} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`,
    );
  }
  const base = callFromOptions(task, { ...options, args: undefined, kwargs: undefined });
  const sets = parseCallLines(file, text);
  const calls = sets.map((set) => ({ ...base, ...set.call }));
  const { ctx } = await app.targetForWrite();
  const bar = progressBar(app.stderr, app.interactive, 'sending');
  let sent: Awaited<ReturnType<typeof sendTasks>>;
  try {
    sent = await sendTasks(ctx, calls, {
      origin: ORIGIN,
      onProgress: (done, total) => bar.update(done, total),
    });
  } catch (error) {
    if (error instanceof ValidationError) throw fileError(error, sets);
    throw error;
  } finally {
    bar.end();
  }
  const queues = [...new Set(sent.map((s) => s.queue))];
  app.output(
    { sent: sent.length, tasks: sent },
    () => `sent ${sent.length} ${task} tasks to ${queues.join(', ')}`,
  );
  return ExitCode.ok;
}

/**
 * A refusal of calls read from a file, each problem named by its line (`calls[3].args.0` is
 * line 4's `--args[0]` in a JSON-lines file); nothing was sent.
 */
function fileError(error: ValidationError, sets: readonly { where: string }[]): UsageError {
  const problems = error.issues.map((issue) => {
    const at = /^calls\[(\d+)\]\.?(.*)$/.exec(issue.field);
    const where = at ? sets[Number(at[1])]?.where : undefined;
    if (!where || !at) return `${flagOf(issue.field)}: ${issue.message}`;
    return `${where}: ${at[2] ? `${flagOf(at[2])}: ` : ''}${issue.message}`;
  });
  return new UsageError(`--from-file ${problems.join('; ')} (nothing was sent)`);
}

export function registerInspect(program: Command, app: CliApp, extra: (inspect: Command) => void): void {
  const inspect = program
    .command('inspect')
    .description("Celery's inspect: registered tasks, active tasks, queues");
  inspect
    .command('active')
    .description('tasks a worker is running right now')
    .option('--limit <n>', `at most this many, 1 to ${MAX_LIMIT}`, '100')
    .action(
      app.action(async (options: { limit: string }) => {
        const limit = parseNumber('--limit', options.limit, { min: 1, max: MAX_LIMIT, integer: true });
        const { ctx } = await app.target();
        const items = await activeTasks(ctx, { limit });
        app.output(items, () => (items.length ? taskTable(items) : 'no active tasks'));
        return ExitCode.ok;
      }),
    );
  extra(inspect);
}
