/**
 * Base class of every error Celerity throws, so callers can tell ours from the SDK's. Each
 * subclass lives in its folder's `errors.ts`, is named `…Error`, sets `this.name` to that and
 * passes `ErrorOptions` on (so `cause` is kept); docs/decisions.md lists the few exceptions.
 */
export class CelerityError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CelerityError';
  }

  /**
   * Set by a class renamed to the `…Error` convention: the name it was recorded under before
   * (`ResultTooLarge`), which stored rows, scripts and `autoretryFor` lists still read.
   */
  static readonly recordedAs?: string;

  /**
   * The name written where the error leaves the process: a task's `exceptionType`, an enqueue
   * failure's `errorType`, the CLI's `--json` `error.type`; `autoretryFor` matches it too.
   * The class's own `recordedAs` (a subclass does not inherit it), else `name`.
   */
  get exceptionType(): string {
    const type = this.constructor as typeof CelerityError;
    return (Object.hasOwn(type, 'recordedAs') ? type.recordedAs : undefined) ?? this.name;
  }
}

/** The recorded name of any thrown value: ours by `exceptionType`, anything else by `name`. */
export function exceptionTypeOf(error: unknown): string {
  if (error instanceof CelerityError) return error.exceptionType;
  const name = (error as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' && name ? name : 'Error';
}

/**
 * Bad input at a boundary (an envelope, an option, a CLI argument, an API body).
 * `field` is the dotted path of what is wrong, so a person can fix it without reading code.
 */
export class ValidationError extends CelerityError {
  readonly field: string;
  readonly issues: readonly { field: string; message: string }[];

  constructor(issues: readonly { field: string; message: string }[], options?: ErrorOptions) {
    const text = issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ');
    super(text || 'invalid input', options);
    this.name = 'ValidationError';
    this.issues = issues;
    this.field = issues[0]?.field ?? '';
  }

  static of(field: string, message: string): ValidationError {
    return new ValidationError([{ field, message }]);
  }
}

/** Turns zod's issues into our field-named ones; `prefix` names the thing that was validated. */
export function fromZodIssues(
  prefix: string,
  issues: readonly { path: readonly PropertyKey[]; message: string }[],
): ValidationError {
  return new ValidationError(
    issues.map((issue) => ({
      field: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || prefix,
      message: issue.message,
    })),
  );
}
