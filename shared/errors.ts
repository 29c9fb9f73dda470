/** Base class of every error Celerity throws, so callers can tell ours from the SDK's. */
export class CelerityError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'CelerityError';
  }
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
