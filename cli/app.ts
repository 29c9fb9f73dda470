import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { describeFailure, ExitCode, NotConfirmedError, ReportedError } from './errors.ts';
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

/** Where a confirmation is read from: the process's stdin, or a test's stream. */
export type Input = NodeJS.ReadableStream & { isTTY?: boolean };

/** What a command needs besides its arguments: the target, made on first use, and the output. */
export class CliApp {
  readonly stdout: Output;
  readonly stderr: Output;
  readonly stdin: Input;
  exitCode: ExitCode = ExitCode.ok;
  #target: Promise<Target> | undefined;
  #globals: GlobalOptions = {};
  #announced = false;

  constructor(
    stdout: Output = process.stdout,
    stderr: Output = process.stderr,
    stdin: Input = process.stdin,
  ) {
    this.stdout = stdout;
    this.stderr = stderr;
    this.stdin = stdin;
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

  /** The target, for reading; a state file found in a parent folder is named on stderr. */
  target(): Promise<Target> {
    return this.#resolve(false);
  }

  /** The target, for a command that writes: named on stderr first (stdout stays clean for `--json`). */
  targetForWrite(): Promise<Target> {
    return this.#resolve(true);
  }

  async #resolve(writing: boolean): Promise<Target> {
    this.#target ??= resolveTarget(this.#globals);
    const target = await this.#target;
    if (!this.#announced && (writing || target.fromParentFolder)) {
      this.#announced = true;
      this.note(`celerity: ${writing ? 'acting on' : 'reading'} ${target.where}`);
    }
    return target;
  }

  /**
   * For a destructive command: unless `yes`, asks on the terminal after naming the target, and
   * refuses (exit 2) when there is no terminal to ask on, so a script never hangs on a prompt.
   */
  async destructive(yes: boolean | undefined, what: string): Promise<Target> {
    if (!yes && this.stdin.isTTY !== true) {
      throw new NotConfirmedError(`--yes: refusing to ${what} without it (no terminal to ask on)`);
    }
    const target = await this.targetForWrite();
    if (yes) return target;
    this.stderr.write(`${what}? [y/N] `);
    const answer = await readLine(this.stdin);
    if (!/^y(es)?$/i.test(answer.trim())) throw new NotConfirmedError(`not confirmed: did not ${what}`);
    return target;
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
      if (code) throw new ReportedError(code);
    };
  }

  /** Reports an error in words (and as JSON with `--json`) and returns its exit code. */
  fail(error: unknown): ExitCode {
    if (error instanceof ReportedError) return error.code;
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

/** One line from a stream ('' at its end). */
async function readLine(input: Input): Promise<string> {
  const lines = createInterface({ input, terminal: false });
  try {
    for await (const line of lines) return line;
    return '';
  } finally {
    lines.close();
  }
}
