import { CommanderError } from 'commander';
import { isAwsError } from '../shared/aws/errors.ts';
import { PeriodicTaskExistsError, PeriodicTaskNotFoundError } from '../shared/beat/errors.ts';
import { CelerityError, exceptionTypeOf, ValidationError } from '../shared/errors.ts';
import { NotFoundError, OperationFailedError } from '../shared/ops/errors.ts';
import { EnqueueError, ResultTimeoutError, TaskFailedError } from '../shared/producer/errors.ts';
import { NotRegistered } from '../shared/task/errors.ts';

/** Exit codes scripts can rely on. */
export const ExitCode = {
  ok: 0,
  /** The operation ran and failed, or the task it waited for failed. */
  failed: 1,
  /** Bad arguments or usage: nothing was done. */
  usage: 2,
  notFound: 3,
  /** The local cloud or the AWS stack could not be reached (or found, or signed in to). */
  unreachable: 4,
} as const;

export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** A bad argument, named in `message` the way the user typed it (`--args: must be ...`). */
export class UsageError extends CelerityError {
  constructor(message: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** The target (local cloud or stack) cannot be used; `message` says what to do. */
export class TargetUnreachableError extends CelerityError {
  static override readonly recordedAs: string = 'TargetUnreachable';

  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'TargetUnreachableError';
  }
}

/** A local cloud state file whose endpoint is not this machine: refused before any request. */
export class StateFileRefusedError extends TargetUnreachableError {
  static override readonly recordedAs = 'StateFileRefused';
  readonly file: string;
  readonly endpoint: string;
  constructor(file: string, endpoint: string) {
    super(
      `${file}: refusing its endpoint ${endpoint}: a local cloud state file may only point at this machine (127.0.0.0/8, ::1, localhost); for a deployed stack use --stack NAME`,
    );
    this.name = 'StateFileRefusedError';
    this.file = file;
    this.endpoint = endpoint;
  }
}

/** Not confirmed (no terminal to ask on without --yes, or the person said no): nothing was done. */
export class NotConfirmedError extends UsageError {
  static override readonly recordedAs = 'NotConfirmed';

  constructor(message: string) {
    super(message);
    this.name = 'NotConfirmedError';
  }
}

/** A failure already reported to the user; only the exit code is left to set. */
export class ReportedError extends CelerityError {
  static override readonly recordedAs = 'Reported';
  readonly code: ExitCode;
  constructor(code: ExitCode) {
    super(`exit ${code}`);
    this.name = 'ReportedError';
    this.code = code;
  }
}

/** Fields of shared validation errors, as the CLI flags that set them. */
const FLAG_OF: [RegExp, string][] = [
  [/(^|\.)args$/, '--args'],
  [/(^|\.)kwargs$/, '--kwargs'],
  [/(^|\.)countdown$/, '--countdown'],
  [/(^|\.)eta$/, '--eta'],
  [/(^|\.)expires$/, '--expires'],
  [/(^|\.)queue$/, '--queue'],
  [/(^|\.)taskId$/, '--task-id'],
  [/^crontab\.timezone$/, '--timezone'],
  [/^crontab\.(\w+)$/, '--crontab ($1)'],
  [/^crontab$/, '--crontab'],
  [/^interval\.every$/, '--every'],
  [/^interval\.period$/, '--period'],
  [/^solar\.event$/, '--solar'],
  [/^solar\.latitude$/, '--lat'],
  [/^solar\.longitude$/, '--lon'],
  [/^clocked(\.clockedTime)?$/, '--clocked'],
  [/^startTime$/, '--start'],
  [/^oneOff$/, '--one-off'],
  [/^description$/, '--description'],
  [/^task$/, '--task'],
  [/^name$/, '--name'],
  [/^schedule$/, 'schedule (one of --crontab, --every, --solar, --clocked)'],
  [/^(limit|state|cursor|count)$/, '--$1'],
];

export function flagOf(field: string): string {
  // The producer names an argument's position: calls[0].args.1 is --args' second element.
  const within = /(?:^|\.)(args|kwargs)\.(.+)$/.exec(field);
  if (within) return `--${within[1]}[${within[2]}]`;
  for (const [pattern, flag] of FLAG_OF) {
    const match = pattern.exec(field);
    if (match) return flag.replace('$1', match[1] ?? '');
  }
  return field;
}

const NETWORK = new Set([
  'ECONNREFUSED',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ECONNRESET',
  'ETIMEDOUT',
  'EHOSTUNREACH',
]);
const CREDENTIALS = new Set([
  'CredentialsProviderError',
  'ExpiredToken',
  'ExpiredTokenException',
  'UnrecognizedClientException',
  'InvalidClientTokenId',
  'InvalidSignatureException',
  'TokenRefreshRequired',
]);

function networkCode(error: unknown): string | undefined {
  for (let e = error as { code?: string; cause?: unknown } | undefined, depth = 0; e && depth < 5; depth++) {
    if (e.code && NETWORK.has(e.code)) return e.code;
    e = e.cause as typeof e;
  }
  return undefined;
}

export interface Failure {
  code: ExitCode;
  type: string;
  message: string;
  field?: string;
}

/** What an error means to the person and the script: one line of text and an exit code. */
export function describeFailure(error: unknown): Failure {
  const e = error as Error;
  if (error instanceof CommanderError)
    return { code: ExitCode.usage, type: 'UsageError', message: e.message.replace(/^error: /, '') };
  if (error instanceof UsageError)
    return { code: ExitCode.usage, type: exceptionTypeOf(error), message: e.message };
  if (error instanceof ValidationError) {
    const message = error.issues.map((i) => `${flagOf(i.field)}: ${i.message}`).join('; ');
    return { code: ExitCode.usage, type: exceptionTypeOf(error), message, field: error.field };
  }
  if (
    error instanceof NotFoundError ||
    error instanceof PeriodicTaskNotFoundError ||
    error instanceof NotRegistered
  ) {
    return { code: ExitCode.notFound, type: exceptionTypeOf(error), message: e.message };
  }
  if (error instanceof TargetUnreachableError)
    return { code: ExitCode.unreachable, type: exceptionTypeOf(error), message: e.message };
  if (
    error instanceof OperationFailedError ||
    error instanceof TaskFailedError ||
    error instanceof ResultTimeoutError ||
    error instanceof EnqueueError ||
    error instanceof PeriodicTaskExistsError
  ) {
    return { code: ExitCode.failed, type: exceptionTypeOf(error), message: e.message };
  }
  const network = networkCode(error);
  if (network || e?.name === 'TimeoutError') {
    return {
      code: ExitCode.unreachable,
      type: 'TargetUnreachable',
      message: `cannot reach AWS (${network ?? 'timed out'}): is the local cloud running (npm run dev), or your network up?`,
    };
  }
  if (e?.name && CREDENTIALS.has(e.name)) {
    return {
      code: ExitCode.unreachable,
      type: 'TargetUnreachable',
      message: `AWS refused the credentials (${e.name}: ${e.message}); sign in again or set AWS_PROFILE`,
    };
  }
  if (isAwsError(error, 'AccessDeniedException', 'AccessDenied')) {
    return {
      code: ExitCode.failed,
      type: exceptionTypeOf(error),
      message: `${e.message} (your AWS identity lacks this permission)`,
    };
  }
  return { code: ExitCode.failed, type: exceptionTypeOf(error), message: e?.message ?? String(error) };
}
