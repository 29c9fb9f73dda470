export { runEager } from './eager.ts';
export type { ExecuteOptions, RunOutcome } from './execute.ts';
export { describeError, executeTask } from './execute.ts';
export type { RateGrant } from './rate-limit.ts';
export { deferralSeconds, RateLimiter } from './rate-limit.ts';
export { matchesAny, retryCountdown } from './retry-policy.ts';
export type { Invocation, WorkerRuntimeOptions } from './runtime.ts';
export { WorkerRuntime } from './runtime.ts';
