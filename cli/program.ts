import { Command, CommanderError } from 'commander';
import { CliApp, type Input, type Output } from './app.ts';
import { registerBeatCommands } from './commands/beat.ts';
import { registerLogCommands } from './commands/logs.ts';
import { registerInspectExtras, registerQueueCommands } from './commands/queues.ts';
import { registerInspect, registerTaskCommands } from './commands/tasks.ts';
import { ExitCode } from './errors.ts';
import { DEFAULT_STACK } from './target.ts';

export function buildProgram(app: CliApp): Command {
  const program = new Command('celerity')
    .description('Celerity: call tasks, read results, manage queues and periodic tasks, read logs')
    .version('0.1.0')
    .option(
      '--local',
      'the running local cloud (default when .celerity/local.json exists; CELERITY_STATE_FILE)',
    )
    .option(
      '--stack <name>',
      `a deployed stack, with your AWS credentials and region (default ${DEFAULT_STACK})`,
    )
    .option('--json', 'machine-readable output')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride()
    .configureOutput({ writeErr: () => undefined, writeOut: (text) => app.stdout.write(text) });
  registerTaskCommands(program, app);
  registerInspect(program, app, (inspect) => registerInspectExtras(inspect, app));
  registerQueueCommands(program, app);
  registerBeatCommands(program, app);
  registerLogCommands(program, app);
  return program;
}

/** Runs one command line; returns the exit code. Output goes to the given streams. */
export async function run(
  argv: readonly string[],
  streams: { stdout?: Output; stderr?: Output; stdin?: Input } = {},
): Promise<number> {
  const app = new CliApp(streams.stdout, streams.stderr, streams.stdin);
  app.useGlobals({ json: argv.includes('--json') });
  const program = buildProgram(app);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.ok;
  } catch (error) {
    if (error instanceof CommanderError && error.exitCode === 0) return ExitCode.ok;
    if (
      error instanceof CommanderError &&
      ['commander.helpDisplayed', 'commander.version'].includes(error.code)
    ) {
      return ExitCode.ok;
    }
    return app.fail(error);
  }
}
