import type { Command } from 'commander';
import { describeFailure, ExitCode, Reported } from './errors.ts';
import { resolveTarget, type Target } from './target.ts';

/** Global options every command takes. */
export interface GlobalOptions {
  local?: boolean;
  stack?: string;
  json?: boolean;
}

/** Where output goes: the process's streams, or a test's buffers. */
export interface Output {
  write(text: string): unknown;
  isTTY?: boolean;
}

/** What a command needs besides its arguments: the target, made on first use, and the output. */
export class CliApp {
  readonly stdout: Output;
  readonly stderr: Output;
  exitCode: ExitCode = ExitCode.ok;
  #target: Promise<Target> | undefined;
  #globals: GlobalOptions = {};

  constructor(stdout: Output = process.stdout, stderr: Output = process.stderr) {
    this.stdout = stdout;
    this.stderr = stderr;
  }

  get json(): boolean {
    return this.#globals.json === true;
  }

  /** Before commander has parsed (its own usage errors), `--json` is read from the raw arguments. */
  useGlobals(globals: GlobalOptions): void {
    this.#globals = { ...this.#globals, ...globals };
  }

  /** Whether a person is watching (for a progress bar): a terminal, and no `--json`. */
  get interactive(): boolean {
    return !this.json && this.stderr.isTTY === true;
  }

  target(): Promise<Target> {
    this.#target ??= resolveTarget(this.#globals);
    return this.#target;
  }

  print(text: string): void {
    this.stdout.write(`${text}\n`);
  }

  printJson(value: unknown): void {
    this.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
  }

  /** Prints `json` with `--json`, else the text `human()` makes. */
  output(json: unknown, human: () => string): void {
    if (this.json) this.printJson(json);
    else this.print(human());
  }

  note(text: string): void {
    this.stderr.write(`${text}\n`);
  }

  /** Wraps a command's action: reads the global options, runs it, turns errors into exit codes. */
  action<A extends unknown[]>(run: (...args: A) => Promise<ExitCode | undefined>) {
    return async (...args: A): Promise<void> => {
      const command = args[args.length - 1] as Command;
      this.#globals = command.optsWithGlobals() as GlobalOptions;
      const code = await run(...args);
      if (code) throw new Reported(code);
    };
  }

  /** Reports an error in words (and as JSON with `--json`) and returns its exit code. */
  fail(error: unknown): ExitCode {
    if (error instanceof Reported) return error.code;
    const failure = describeFailure(error);
    this.note(`celerity: ${failure.message}`);
    if (failure.code === ExitCode.usage && !failure.message.includes('--help')) {
      this.note('(run with --help for usage)');
    }
    if (process.env.CELERITY_DEBUG && error instanceof Error) this.note(error.stack ?? '');
    if (this.json) this.printJson({ error: failure });
    return failure.code;
  }
}
