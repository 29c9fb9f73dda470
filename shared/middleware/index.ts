export type { ReturnRecordsOnErrorOptions } from './batch-failures.ts';
export { returnRecordsOnError } from './batch-failures.ts';
export type { InvocationDeadlineOptions } from './deadline.ts';
export { invocationDeadline, invocationSignal } from './deadline.ts';
export { InvocationDeadlineError } from './errors.ts';
export { injectLambdaContext } from './log-context.ts';
export type { FlushableMetrics } from './metrics.ts';
export { InvocationMetrics, logMetrics } from './metrics.ts';
export type { MiddlewareLikeObj, MiddyLikeRequest } from './types.ts';
