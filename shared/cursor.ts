import { ValidationError } from './errors.ts';

/**
 * Listing cursors: what a listing needs to carry on (DynamoDB's `LastEvaluatedKey`, or one per
 * index lane), as opaque base64url JSON. One reading for every listing, so each refuses a cursor it
 * did not give out the same way: a 400 naming `cursor`, never a key DynamoDB would answer with a 500.
 */
export function encodeCursor(value: unknown): string {
  return Buffer.from(JSON.stringify(value), 'utf8').toString('base64url');
}

/** The value `encodeCursor` wrapped, if `accept` recognises it as one this listing gave out. */
export function decodeCursor<T>(cursor: string, accept: (value: unknown) => value is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (value !== undefined && accept(value)) return value;
  throw ValidationError.of('cursor', 'is not a cursor this listing returned');
}
