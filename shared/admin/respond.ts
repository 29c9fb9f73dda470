import {
  PeriodicTaskConflict,
  PeriodicTaskExists,
  PeriodicTaskNotFound,
  ScheduleExpressionError,
} from '../beat/errors.ts';
import { CelerityError, ValidationError } from '../errors.ts';
import { NotFound, OperationFailed } from '../ops/errors.ts';
import type * as z from '../schema.ts';
import { NotRegistered } from '../task/errors.ts';
import { ForbiddenError, PayloadTooLargeError, TokensUnavailableError, UnauthorizedError } from './errors.ts';

/** Every error body: `{ error: { type, message, field? } }`. */
export interface ErrorBody {
  error: {
    type: string;
    message: string;
    field?: string;
    issues?: { field: string; message: string }[];
    requestId?: string;
  };
}

export interface ErrorResponse {
  status: number;
  body: ErrorBody;
  headers?: Record<string, string>;
}

/** zod's issues as field-named ones; `where` names the part of the request (`query`, `params`, `body`). */
export function issuesOf(where: string, issues: readonly z.core.$ZodIssue[]): ValidationError {
  const out: { field: string; message: string }[] = [];
  for (const issue of issues) {
    const path = issue.path.map(String);
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys)
        out.push({ field: [...path, key].join('.'), message: 'is not a known field' });
    } else {
      out.push({ field: path.join('.') || where, message: issue.message });
    }
  }
  return new ValidationError(out);
}

/**
 * The status and body a thrown error answers with. What a client can cause is a 4xx naming why;
 * anything else is a 500 that names only the request id (the log has the rest).
 */
export function errorResponse(error: unknown, requestId: string): ErrorResponse {
  const body = (type: string, message: string, extra: Partial<ErrorBody['error']> = {}): ErrorBody => ({
    error: { type, message, ...extra },
  });
  if (error instanceof ValidationError) {
    return {
      status: 400,
      body: body('ValidationError', error.message, { field: error.field, issues: [...error.issues] }),
    };
  }
  if (error instanceof ScheduleExpressionError) {
    return { status: 400, body: body('ValidationError', error.message, { field: 'schedule' }) };
  }
  if (error instanceof NotRegistered) {
    return { status: 400, body: body('ValidationError', error.message, { field: 'task' }) };
  }
  if (error instanceof NotFound || error instanceof PeriodicTaskNotFound) {
    return { status: 404, body: body('NotFound', error.message) };
  }
  if (error instanceof PeriodicTaskExists || error instanceof PeriodicTaskConflict) {
    return { status: 409, body: body('Conflict', error.message) };
  }
  if (error instanceof OperationFailed) return { status: 409, body: body('OperationFailed', error.message) };
  if (error instanceof UnauthorizedError) {
    return {
      status: 401,
      body: body('Unauthorized', error.message),
      headers: {
        'www-authenticate':
          error.reason === 'missing'
            ? 'Bearer realm="celerity"'
            : 'Bearer realm="celerity", error="invalid_token"',
      },
    };
  }
  if (error instanceof ForbiddenError) return { status: 403, body: body('Forbidden', error.message) };
  if (error instanceof PayloadTooLargeError)
    return { status: 413, body: body('PayloadTooLarge', error.message) };
  if (error instanceof TokensUnavailableError) {
    return {
      status: 503,
      body: body('Unavailable', 'the API cannot check tokens right now; try again', { requestId }),
    };
  }
  const name = error instanceof CelerityError ? error.name : 'InternalError';
  return {
    status: 500,
    body: body(
      name === 'InternalError' ? name : 'InternalError',
      `unexpected error; quote request ${requestId}`,
      {
        requestId,
      },
    ),
  };
}
