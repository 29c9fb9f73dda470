import type { Command } from 'commander';
import { PeriodicTaskExistsError } from '../../shared/beat/errors.ts';
import { PERIODS, SOLAR_EVENTS } from '../../shared/beat/model.ts';
import {
  addPeriodicTask,
  listPeriodicTasks,
  periodicRow,
  previewInput,
  previewPeriodicTask,
  removePeriodicTask,
  runPeriodicTask,
  setPeriodicTaskEnabled,
  setupPeriodicTasks,
  updatePeriodicTask,
} from '../../shared/ops/index.ts';
import type { CliApp } from '../app.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { shortTime, table, zonedTime } from '../format.ts';
import { parseNumber } from '../parse.ts';
import {
  type AddOptions,
  CLEARABLE,
  definitionFromOptions,
  patchFromOptions,
  type ScheduleOptions,
  scheduleFromOptions,
  shellWord,
  type UpdateOptions,
} from './beat-options.ts';

function scheduleFlags(command: Command): Command {
  return command
    .option('--crontab <fields>', "five crontab fields, 'minute hour day-of-month month day-of-week'")
    .option('--timezone <zone>', 'with --crontab: an IANA zone (default: the app timezone)')
    .option('--every <n>', 'an interval of N periods')
    .option('--period <period>', `with --every: ${PERIODS.join(', ')}`)
    .option('--solar <event>', `a solar event: ${SOLAR_EVENTS.join(', ')}`)
    .option('--lat <degrees>', 'with --solar: latitude')
    .option('--lon <degrees>', 'with --solar: longitude')
    .option('--clocked <iso>', 'once, at this instant (ISO 8601 with a zone)');
}

export function registerBeatCommands(program: Command, app: CliApp): void {
  const beat = program.command('beat').description('periodic tasks (django-celery-beat)');

  beat
    .command('setup')
    .description("create the app's default periodic tasks (setup_periodic_tasks); existing ones are kept")
    .action(
      app.action(async () => {
        const { ctx } = await app.targetForWrite();
        const report = await setupPeriodicTasks(ctx);
        app.output(report, () =>
          [
            ...report.created.map((n) => `created  ${n}`),
            ...report.existing.map((n) => `exists   ${n}`),
          ].join('\n'),
        );
        return ExitCode.ok;
      }),
    );

  beat
    .command('list')
    .description('periodic tasks by name')
    .option('--limit <n>', 'at most this many', '100')
    .option('--cursor <cursor>', 'the next page, as a previous --json listing returned it')
    .action(
      app.action(async (options: { limit: string; cursor?: string }) => {
        const limit = parseNumber('--limit', options.limit, { min: 1, max: 1000, integer: true });
        const { ctx } = await app.target();
        const page = await listPeriodicTasks(ctx, {
          limit,
          ...(options.cursor ? { cursor: options.cursor } : {}),
        });
        app.output(page, () =>
          page.items.length === 0
            ? 'no periodic tasks (create the defaults with `celerity beat setup`)'
            : table(page.items, [
                { header: 'NAME', value: (p) => p.name, max: 40 },
                { header: 'TASK', value: (p) => p.task ?? `INVALID: ${p.error}`, max: 60 },
                { header: 'SCHEDULE', value: (p) => p.schedule },
                {
                  header: 'ENABLED',
                  value: (p) => (p.enabled === undefined ? undefined : p.enabled ? 'yes' : 'no'),
                },
                { header: 'NEXT RUN', value: (p) => (p.enabled ? shortTime(p.nextRun) : undefined) },
                { header: 'LAST RUN', value: (p) => shortTime(p.lastRunAt) },
                { header: 'RUNS', value: (p) => p.totalRunCount },
              ]) + (page.cursor ? `\n(more: --cursor ${page.cursor})` : ''),
        );
        return ExitCode.ok;
      }),
    );

  scheduleFlags(beat.command('add').description('add a periodic task'))
    .requiredOption('--name <name>', 'a unique name')
    .requiredOption('--task <task>', 'the registered task to run')
    .option('--args <json>', 'positional arguments, a JSON array')
    .option('--kwargs <json>', 'keyword arguments, a JSON object')
    .option('--queue <queue>', 'the route queue, instead of the task routes')
    .option('--one-off', 'run once, then disable')
    .option('--expires <iso>', 'stop running after this instant')
    .option('--start <iso>', 'start running at this instant')
    .option('--description <text>', 'what it is for')
    .option('--disabled', 'add it disabled')
    .action(
      app.action(async (options: AddOptions) => {
        const input = definitionFromOptions(options);
        const { ctx } = await app.targetForWrite();
        const definition = await addPeriodicTask(ctx, input).catch((error: unknown) => {
          if (!(error instanceof PeriodicTaskExistsError)) throw error;
          const exists = new PeriodicTaskExistsError(input.name);
          exists.message = `a periodic task named ${JSON.stringify(input.name)} already exists: change it with \`celerity beat update ${shellWord(input.name)}\` (the flags of add; --clear empties a field), or choose another --name`;
          throw exists;
        });
        const row = periodicRow(definition, new Date());
        app.output(
          definition,
          () =>
            `added ${row.name}: ${row.task}, ${row.schedule}${row.nextRun ? `, next ${shortTime(row.nextRun)}` : ''}`,
        );
        return ExitCode.ok;
      }),
    );

  scheduleFlags(
    beat
      .command('update')
      .description(
        'change a periodic task: only the fields given change (a schedule flag replaces its schedule)',
      )
      .argument('<name>', 'the periodic task'),
  )
    .option('--task <task>', 'the registered task to run')
    .option('--args <json>', 'positional arguments, a JSON array')
    .option('--kwargs <json>', 'keyword arguments, a JSON object')
    .option('--queue <queue>', 'the route queue, instead of the task routes')
    .option('--one-off', 'run once, then disable')
    .option('--no-one-off', 'run on every tick of its schedule')
    .option('--expires <iso>', 'stop running after this instant')
    .option('--start <iso>', 'start running at this instant')
    .option('--description <text>', 'what it is for')
    .option('--disabled', 'disable it')
    .option('--enabled', 'enable it')
    .option(
      '--clear <fields>',
      `empty optional fields (comma-separated): ${Object.keys(CLEARABLE).join(', ')}`,
    )
    .action(
      app.action(async (name: string, options: UpdateOptions) => {
        const patch = patchFromOptions(options);
        const { ctx } = await app.targetForWrite();
        const definition = await updatePeriodicTask(ctx, name, patch);
        const row = periodicRow(definition, new Date());
        app.output(
          definition,
          () =>
            `updated ${row.name}: ${row.task}, ${row.schedule}${row.enabled ? '' : ', disabled'}${row.nextRun && row.enabled ? `, next ${shortTime(row.nextRun)}` : ''}`,
        );
        return ExitCode.ok;
      }),
    );

  for (const [verb, enabled] of [
    ['enable', true],
    ['disable', false],
  ] as const) {
    beat
      .command(verb)
      .description(`${verb} a periodic task`)
      .argument('<name>', 'the periodic task')
      .action(
        app.action(async (name: string) => {
          const { ctx } = await app.targetForWrite();
          const definition = await setPeriodicTaskEnabled(ctx, name, enabled);
          app.output(definition, () => `${verb}d ${name}`);
          return ExitCode.ok;
        }),
      );
  }

  beat
    .command('remove')
    .description('delete a periodic task (its schedule goes with it)')
    .argument('<name>', 'the periodic task')
    .option('--yes', 'yes, delete it (required without a terminal)')
    .action(
      app.action(async (name: string, options: { yes?: boolean }) => {
        const { ctx } = await app.destructive(
          options.yes,
          `remove the periodic task ${JSON.stringify(name)}`,
        );
        const result = await removePeriodicTask(ctx, name);
        app.output(result, () => `removed ${name}`);
        return ExitCode.ok;
      }),
    );

  beat
    .command('run')
    .description('send a periodic task now, outside its schedule (Django admin: "Run selected tasks")')
    .argument('<name>', 'the periodic task')
    .action(
      app.action(async (name: string) => {
        const { ctx } = await app.targetForWrite();
        const sent = await runPeriodicTask(ctx, name);
        app.output(
          { ...sent, periodicTask: name },
          () => `sent ${sent.task} as ${sent.taskId} to ${sent.queue} (periodic task ${name})`,
        );
        return ExitCode.ok;
      }),
    );

  scheduleFlags(
    beat
      .command('preview')
      .description(
        "the next runs of a periodic task, or of a schedule given by flags, in the schedule's zone",
      )
      .argument('[name]', 'a stored periodic task'),
  )
    .option('--count <n>', 'how many runs', '5')
    .action(
      app.action(async (name: string | undefined, options: ScheduleOptions & { count: string }) => {
        const count = parseNumber('--count', options.count, { min: 1, max: 1000, integer: true });
        const { count: _count, ...flags } = options;
        const given = Object.values(flags).some((v) => v !== undefined);
        if (name && given)
          throw new UsageError('NAME and schedule flags: preview a stored task or a schedule, not both');
        let preview: ReturnType<typeof previewInput>;
        if (name) {
          const { ctx } = await app.target();
          preview = await previewPeriodicTask(ctx, name, count);
        } else {
          const schedule = scheduleFromOptions(flags);
          const { getConfig } = await import('../../shared/config/config.ts');
          const { defaultRegistry } = await import('../../shared/task/registry.ts');
          // A schedule alone needs no target: the app's timezone is all it reads.
          preview = previewInput(
            { config: getConfig(), registry: defaultRegistry, clients: {} as never },
            schedule,
            count,
          );
        }
        app.output(preview, () =>
          [
            `${preview.name ? `${preview.name}: ` : ''}${preview.schedule}, times in ${preview.timezone}`,
            ...(preview.times.length
              ? preview.times.map((t) => `  ${zonedTime(t, preview.timezone)}`)
              : ['  no runs ahead']),
          ].join('\n'),
        );
        return ExitCode.ok;
      }),
    );
}
