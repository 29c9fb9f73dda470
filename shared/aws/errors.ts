/**
 * Whether an error is the AWS service error `name` (e.g. 'ConditionalCheckFailedException').
 * By name rather than `instanceof`: a bundle or a test may hold two copies of a client package,
 * and the SDK names every service exception it throws.
 */
export function isAwsError(error: unknown, name: string): boolean {
  return (error as { name?: unknown } | null | undefined)?.name === name;
}
