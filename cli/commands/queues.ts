import type { Command } from 'commander';
import { getConfig } from '../../shared/config/config.ts';
import {
  peekDeadLetters,
  purgeQueue,
  queueDepths,
  redriveDeadLetters,
  registeredTasks,
} from '../../shared/ops/index.ts';
import { defaultRegistry } from '../../shared/task/registry.ts';
import type { CliApp } from '../app.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { shortTime, table } from '../format.ts';
import { parseNumber } from '../parse.ts';

export function registerInspectExtras(inspect: Command, app: CliApp): void {
  inspect
    .command('registered')
    .description("the app's tasks (functions/tasks), with their queue and key options")
    .action(
      app.action(async () => {
        // The registry is this app's own: no target is needed, unless one is named for its routes.
        const items = registeredTasks({ config: getConfig(), registry: defaultRegistry });
        app.output(items, () =>
          table(items, [
            { header: 'TASK', value: (t) => t.name },
            { header: 'QUEUE', value: (t) => t.queue },
            { header: 'MAX RETRIES', value: (t) => t.maxRetries },
            { header: 'TIME LIMIT', value: (t) => `${t.timeLimit} s` },
            { header: 'SOFT LIMIT', value: (t) => (t.softTimeLimit ? `${t.softTimeLimit} s` : undefined) },
            { header: 'RATE LIMIT', value: (t) => t.rateLimit },
            {
              header: 'FLAGS',
              value: (t) =>
                [t.ignoreResult && 'ignore_result', t.trackStarted && 'track_started']
                  .filter(Boolean)
                  .join(',') || undefined,
            },
          ]),
        );
        return ExitCode.ok;
      }),
    );

  inspect
    .command('queues')
    .description('each route queue: waiting, in flight, delayed, and its dead-letter queue')
    .action(
      app.action(async () => {
        const { ctx } = await app.target();
        const depths = await queueDepths(ctx);
        app.output(depths, () =>
          table(depths, [
            { header: 'QUEUE', value: (q) => q.queue },
            { header: 'WAITING', value: (q) => q.visible },
            { header: 'IN FLIGHT', value: (q) => q.inFlight },
            { header: 'DELAYED', value: (q) => q.delayed },
            { header: 'DLQ', value: (q) => q.dlq?.visible },
          ]),
        );
        return ExitCode.ok;
      }),
    );
}

export function registerQueueCommands(program: Command, app: CliApp): void {
  program
    .command('purge')
    .description("delete every waiting message of a route queue (Celery's purge); needs --yes")
    .argument('[queue]', 'the route queue')
    .option('--all', 'every route queue')
    .option('--dlq', "the queue's dead-letter queue instead")
    .option('--yes', 'yes, delete them')
    .action(
      app.action(
        async (queue: string | undefined, options: { all?: boolean; dlq?: boolean; yes?: boolean }) => {
          if (queue && options.all) throw new UsageError('QUEUE and --all: give one or the other');
          if (!queue && !options.all) throw new UsageError('QUEUE: name a route queue, or give --all');
          const what = options.all ? 'every route queue' : `queue ${queue}`;
          if (!options.yes) {
            throw new UsageError(
              `--yes: refusing to purge ${what} without it (this deletes every waiting message)`,
            );
          }
          const { ctx } = await app.target();
          const queues = options.all ? Object.keys(ctx.config.queues) : [queue as string];
          const results: Awaited<ReturnType<typeof purgeQueue>>[] = [];
          for (const q of queues)
            results.push(await purgeQueue(ctx, q, { deadLetters: options.dlq === true }));
          app.output(results, () =>
            results
              .map(
                (r) =>
                  `purged ${options.dlq ? 'the DLQ of ' : ''}${r.queue}: about ${r.approximateMessages} messages`,
              )
              .join('\n'),
          );
          return ExitCode.ok;
        },
      ),
    );

  const dlq = program.command('dlq').description('dead-letter queues: see what failed, send it back');
  dlq
    .command('show')
    .description("peek at a route's dead letters without consuming them")
    .argument('<queue>', 'the route queue')
    .option('--limit <n>', 'at most this many messages (1-100)', '10')
    .action(
      app.action(async (queue: string, options: { limit: string }) => {
        const limit = parseNumber('--limit', options.limit, { min: 1, max: 100, integer: true });
        const { ctx } = await app.target();
        const peek = await peekDeadLetters(ctx, queue, { limit });
        app.output(peek, () => {
          if (peek.messages.length === 0) return `the DLQ of ${queue} is empty`;
          return `${peek.approximateTotal} dead letters in the DLQ of ${queue}; showing ${peek.messages.length}\n${table(
            peek.messages,
            [
              { header: 'TASK ID', value: (m) => m.taskId },
              { header: 'TASK', value: (m) => m.task ?? m.body, max: 60 },
              { header: 'RECEIVES', value: (m) => m.receiveCount },
              { header: 'SENT', value: (m) => shortTime(m.sentAt) },
              { header: 'STATE', value: (m) => m.status },
              { header: 'ERROR', value: (m) => m.errorType },
            ],
          )}`;
        });
        return ExitCode.ok;
      }),
    );
  dlq
    .command('redrive')
    .description("send a route's dead letters back to its queue")
    .argument('<queue>', 'the route queue')
    .option('--limit <n>', 'at most this many messages (copy only)')
    .option('--strategy <how>', 'move-task (SQS moves them; default on AWS) or copy (default locally)')
    .action(
      app.action(async (queue: string, options: { limit?: string; strategy?: string }) => {
        if (options.strategy !== undefined && !['move-task', 'copy'].includes(options.strategy)) {
          throw new UsageError(`--strategy: must be move-task or copy (got ${options.strategy})`);
        }
        const limit =
          options.limit === undefined
            ? undefined
            : parseNumber('--limit', options.limit, { min: 1, integer: true });
        const target = await app.target();
        // Emulators lack move tasks; a limit means counting message by message.
        const strategy = (options.strategy ?? (target.kind === 'local' || limit ? 'copy' : 'move-task')) as
          | 'copy'
          | 'move-task';
        if (strategy === 'move-task' && limit !== undefined)
          throw new UsageError('--limit: only with --strategy copy');
        const report = await redriveDeadLetters(target.ctx, queue, { strategy, ...(limit ? { limit } : {}) });
        app.output(report, () =>
          report.strategy === 'move-task'
            ? `moving about ${report.moved} messages from the DLQ of ${queue} back (SQS move task ${report.taskHandle ?? ''})`
            : `moved ${report.moved} messages from the DLQ of ${queue} back to it${report.failed ? `; ${report.failed} could not be sent and stay in the DLQ` : ''}`,
        );
        return report.failed ? ExitCode.failed : ExitCode.ok;
      }),
    );
}
