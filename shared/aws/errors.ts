import type { ConditionalCheckFailedException, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import type { ExpiredIteratorException, TrimmedDataAccessException } from '@aws-sdk/client-dynamodb-streams';

/** What every error the SDK throws for a service's answer carries beside its name. */
export interface AwsServiceError extends Error {
  readonly $fault?: 'client' | 'server';
  readonly $metadata?: { readonly httpStatusCode?: number; readonly requestId?: string };
  readonly $retryable?: { readonly throttling?: boolean };
}

/**
 * The service errors Celerity reacts to, by the name the SDK gives them, with the shape that
 * name carries (so a `TransactionCanceledException` check yields its `CancellationReasons`).
 * Add a name here to check for it: a misspelt name is then a type error, not a silent `false`.
 */
export interface AwsErrors {
  AccessDenied: AwsServiceError;
  AccessDeniedException: AwsServiceError;
  ConditionalCheckFailedException: ConditionalCheckFailedException;
  ConflictException: AwsServiceError;
  ExpiredIteratorException: ExpiredIteratorException;
  PurgeQueueInProgress: AwsServiceError;
  ResourceNotFoundException: AwsServiceError;
  TransactionCanceledException: TransactionCanceledException;
  TrimmedDataAccessException: TrimmedDataAccessException;
  ValidationException: AwsServiceError;
}

export type AwsErrorName = keyof AwsErrors;

/**
 * Whether an error is one of the AWS service errors `names` (e.g. 'ConditionalCheckFailedException').
 * By name rather than `instanceof`: a bundle or a test may hold two copies of a client package,
 * and the SDK names every service exception it throws. The one way Celerity recognises them.
 */
export function isAwsError<N extends AwsErrorName>(error: unknown, ...names: N[]): error is AwsErrors[N] {
  const name = (error as { name?: unknown } | null | undefined)?.name;
  return typeof name === 'string' && (names as string[]).includes(name);
}
