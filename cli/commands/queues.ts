import type { Command } from 'commander';
import { getConfig } from '../../shared/config/config.ts';
import {
  type DeadLetter,
  FailureQueueName,
  failureQueueDepths,
  peekDeadLetters,
  purgeQueue,
  queueOverview,
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
    .description(
      'each route queue (waiting, in flight, delayed, scheduled: an eta past 15 minutes, its DLQ), then every failure queue',
    )
    .action(
      app.action(async () => {
        const { ctx } = await app.target();
        const queues = await queueOverview(ctx);
        const failureQueues = await failureQueueDepths(ctx, queues);
        app.output({ queues, failureQueues }, () =>
          [
            table(queues, [
              { header: 'QUEUE', value: (q) => q.queue },
              { header: 'WAITING', value: (q) => q.visible },
              { header: 'IN FLIGHT', value: (q) => q.inFlight },
              { header: 'DELAYED', value: (q) => q.delayed },
              { header: 'SCHEDULED', value: (q) => q.scheduled },
              { header: 'DLQ', value: (q) => q.dlq?.visible },
              // CloudWatch's ApproximateAgeOfOldestMessage on a stack; `-` locally (no SQS metrics).
              {
                header: 'OLDEST',
                value: (q) => (q.oldestAgeSeconds === null ? undefined : `${q.oldestAgeSeconds} s`),
              },
            ]),
            '',
            table(failureQueues, [
              { header: 'FAILURE QUEUE', value: (q) => (q.kind === 'task' ? `${q.name} (DLQ)` : q.name) },
              { header: 'MESSAGES', value: (q) => q.visible },
              { header: 'IN FLIGHT', value: (q) => q.inFlight },
              { header: 'HOLDS', value: (q) => q.holds },
            ]),
          ].join('\n'),
        );
        return ExitCode.ok;
      }),
    );
}

/** A failure-queue message in one table row: what it was, and why it is here. */
function deadLetterTable(messages: readonly DeadLetter[]): string {
  return table(messages, [
    // A task id where the message carries one, else the SQS message id (a beat-sync record).
    { header: 'ID', value: (m) => m.taskId ?? m.messageId },
    { header: 'TASK', value: (m) => m.task ?? (m.lambda ? 'beat-sync' : m.body), max: 50 },
    { header: 'RECEIVES', value: (m) => m.receiveCount },
    { header: 'SENT', value: (m) => shortTime(m.sentAt) },
    { header: 'REASON', value: (m) => m.reason, max: 120 },
  ]);
}

export function registerQueueCommands(program: Command, app: CliApp): void {
  program
    .command('purge')
    .description("delete every waiting message of a route queue (Celery's purge); asks, or --yes")
    .argument('[queue]', 'the route queue (with --dlq: also scheduler or beat-sync)')
    .option('--all', 'every route queue')
    .option('--dlq', "the queue's dead-letter queue instead")
    .option('--yes', 'yes, delete them (required without a terminal)')
    .action(
      app.action(
        async (queue: string | undefined, options: { all?: boolean; dlq?: boolean; yes?: boolean }) => {
          if (queue && options.all) throw new UsageError('QUEUE and --all: give one or the other');
          if (!queue && !options.all) throw new UsageError('QUEUE: name a route queue, or give --all');
          const what = `${options.dlq ? 'the dead-letter queue of ' : ''}${options.all ? 'every route queue' : `queue ${queue}`}`;
          const { ctx } = await app.destructive(
            options.yes,
            `purge ${what} (every waiting message is deleted)`,
          );
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

  const dlq = program
    .command('dlq')
    .description("failure queues (each route's DLQ, scheduler, beat-sync): see what failed, send it back");
  dlq
    .command('show')
    .description('peek at a failure queue without consuming it; each message with its reason')
    .argument('[queue]', "a route (its DLQ), scheduler (the Scheduler's DLQ) or beat-sync")
    .option('--all', 'every failure queue')
    .option('--limit <n>', 'at most this many messages per queue (1-100)', '10')
    .action(
      app.action(async (queue: string | undefined, options: { limit: string; all?: boolean }) => {
        if (queue && options.all) throw new UsageError('QUEUE and --all: give one or the other');
        if (!queue && !options.all) {
          throw new UsageError('QUEUE: name a route, scheduler or beat-sync, or give --all');
        }
        const limit = parseNumber('--limit', options.limit, { min: 1, max: 100, integer: true });
        const { ctx } = await app.target();
        const names = queue ? [queue] : (await failureQueueDepths(ctx)).map((q) => q.name);
        const peeks: Awaited<ReturnType<typeof peekDeadLetters>>[] = [];
        for (const name of names) peeks.push(await peekDeadLetters(ctx, name, { limit }));
        app.output(queue ? peeks[0] : peeks, () =>
          peeks
            .map((peek) => {
              const of = {
                task: `the DLQ of ${peek.queue}`,
                scheduler: "the Scheduler's DLQ",
                'beat-sync': 'the beat-sync failure queue',
              }[peek.kind];
              if (peek.messages.length === 0) return `${of} is empty`;
              const total = peek.approximateTotal;
              return `${total} message${total === 1 ? '' : 's'} in ${of}; showing ${peek.messages.length}\n${deadLetterTable(peek.messages)}`;
            })
            .join('\n\n'),
        );
        return ExitCode.ok;
      }),
    );
  dlq
    .command('redrive')
    .description(
      "send failures back: a route's dead letters to its queue; scheduler: each input to its task queue; beat-sync: rebuild the schedules",
    )
    .argument('<queue>', 'a route (its DLQ), scheduler or beat-sync')
    .option('--limit <n>', 'at most this many messages (copy and scheduler only)')
    .option(
      '--strategy <how>',
      'for a route: move-task (SQS moves them; default on AWS) or copy (default locally)',
    )
    .option('--yes', 'yes, move them (required without a terminal)')
    .action(
      app.action(async (queue: string, options: { limit?: string; strategy?: string; yes?: boolean }) => {
        if (options.strategy !== undefined && !['move-task', 'copy'].includes(options.strategy)) {
          throw new UsageError(`--strategy: must be move-task or copy (got ${options.strategy})`);
        }
        const limit =
          options.limit === undefined
            ? undefined
            : parseNumber('--limit', options.limit, { min: 1, integer: true });
        const special = (Object.values(FailureQueueName) as string[]).includes(queue);
        if (special && options.strategy !== undefined) {
          throw new UsageError(`--strategy: only for a route's DLQ (${queue} has its own way back)`);
        }
        if (queue === FailureQueueName.beatSync && limit !== undefined) {
          throw new UsageError('--limit: not for beat-sync (one reconcile answers every record)');
        }
        const target = await app.destructive(options.yes, `redrive the failure queue ${queue}`);
        const isRoute = queue in target.ctx.config.queues;
        // Emulators lack move tasks; a limit means counting message by message.
        const strategy = isRoute
          ? ((options.strategy ?? (target.kind === 'local' || limit ? 'copy' : 'move-task')) as
              | 'copy'
              | 'move-task')
          : undefined;
        if (strategy === 'move-task' && limit !== undefined)
          throw new UsageError('--limit: only with --strategy copy');
        const report = await redriveDeadLetters(target.ctx, queue, {
          ...(strategy ? { strategy } : {}),
          ...(limit ? { limit } : {}),
        });
        app.output(report, () => describeRedrive(report));
        return report.failed ? ExitCode.failed : ExitCode.ok;
      }),
    );
}

function describeRedrive(report: Awaited<ReturnType<typeof redriveDeadLetters>>): string {
  const { queue } = report;
  const problems = (report.problems ?? []).map((p) => `  ${p}`);
  switch (report.strategy) {
    case 'move-task':
      return `moving about ${report.moved} messages from the DLQ of ${queue} back (SQS move task ${report.taskHandle ?? ''})`;
    case 'resend':
      return [
        `re-sent ${report.moved} schedule deliveries from the scheduler DLQ to their task queues${report.failed ? `; ${report.failed} stay in the DLQ:` : ''}`,
        ...problems,
      ].join('\n');
    case 'reconcile': {
      const r = report.reconcile;
      if (!r) return 'the beat-sync failure queue is empty: nothing to retry';
      const summary = `rebuilt the periodic schedules from the table (${r.checked} checked: ${r.created} created, ${r.updated} updated, ${r.deleted} deleted, ${r.invalid} invalid)`;
      return report.failed
        ? [`${summary}; some failed, so the ${report.failed} failure records stay:`, ...problems].join('\n')
        : `${summary}; removed ${report.moved} failure records`;
    }
    default:
      return `moved ${report.moved} messages from the DLQ of ${queue} back to it${report.failed ? `; ${report.failed} could not be sent and stay in the DLQ` : ''}`;
  }
}
