import { fromZodIssues, ValidationError } from '../errors.ts';
import * as z from '../schema.ts';

/** Lambda stops a function at 900 s; this much of it is kept for claiming and recording results. */
export const INVOCATION_OVERHEAD_SECONDS = 30;
export const MAX_TIME_LIMIT_SECONDS = 900 - INVOCATION_OVERHEAD_SECONDS;

/** A class of error, or its `name`, that makes a task retry itself (Celery's `autoretry_for`). */
export type ErrorMatcher = string | (abstract new (...args: never[]) => Error);

/** Anything with zod's `safeParse`, so users may bring their own zod schemas for args. */
export interface ArgsSchema {
  safeParse(
    value: unknown,
  ):
    | { success: true; data: unknown }
    | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } };
}

const rateLimitPattern = /^(\d+)\/(s|m|h)$/;

const positive = () => z.number().check(z.positive());
const hasSafeParse = z.custom<ArgsSchema>(
  (v) => typeof (v as ArgsSchema | null)?.safeParse === 'function',
  'must be a schema with safeParse (zod)',
);

const optionsSchema = z.strictObject({
  queue: z.optional(z.string().check(z.minLength(1))),
  maxRetries: z.optional(z.int().check(z.minimum(0))),
  defaultRetryDelay: z.optional(z.number().check(z.minimum(0))),
  autoretryFor: z.optional(
    z.array(
      z.custom<ErrorMatcher>(
        (v) => typeof v === 'string' || typeof v === 'function',
        'must be an error class or name',
      ),
    ),
  ),
  retryBackoff: z.optional(z.union([z.boolean(), positive()])),
  retryBackoffMax: z.optional(positive()),
  retryJitter: z.optional(z.boolean()),
  rateLimit: z.optional(
    z.string().check(
      z.regex(rateLimitPattern, "must look like '10/s', '10/m' or '100/h'"),
      z.refine((v) => Number(v.split('/')[0]) > 0, 'must allow at least one run'),
    ),
  ),
  timeLimit: z.optional(
    positive().check(
      z.maximum(MAX_TIME_LIMIT_SECONDS, {
        error: `must be at most ${MAX_TIME_LIMIT_SECONDS} s: Lambda stops at 900 s and ${INVOCATION_OVERHEAD_SECONDS} s are kept to record the result`,
      }),
    ),
  ),
  softTimeLimit: z.optional(positive()),
  ignoreResult: z.optional(z.boolean()),
  trackStarted: z.optional(z.boolean()),
  resultExpires: z.optional(z.int().check(z.positive())),
  argsSchema: z.optional(hasSafeParse),
  kwargsSchema: z.optional(hasSafeParse),
});

/** The options of `defineTask`, named after Celery's task options. */
export type TaskOptions = z.input<typeof optionsSchema>;

export interface RateLimit {
  readonly limit: number;
  readonly windowSeconds: number;
  readonly text: string;
}

export interface ResolvedTaskOptions {
  queue: string | undefined;
  maxRetries: number;
  defaultRetryDelay: number;
  autoretryFor: readonly ErrorMatcher[];
  retryBackoff: number;
  retryBackoffMax: number;
  retryJitter: boolean;
  rateLimit: RateLimit | undefined;
  timeLimit: number;
  softTimeLimit: number | undefined;
  ignoreResult: boolean;
  trackStarted: boolean;
  resultExpires: number | undefined;
  argsSchema: ArgsSchema | undefined;
  kwargsSchema: ArgsSchema | undefined;
}

const windowSeconds = { s: 1, m: 60, h: 3600 } as const;

export function parseRateLimit(text: string): RateLimit {
  const match = rateLimitPattern.exec(text);
  if (!match) throw ValidationError.of('rateLimit', "must look like '10/s', '10/m' or '100/h'");
  return {
    limit: Number(match[1]),
    windowSeconds: windowSeconds[match[2] as keyof typeof windowSeconds],
    text,
  };
}

/** Validates a task's options and fills every default, each documented where it is set. */
export function resolveTaskOptions(taskName: string, input: TaskOptions = {}): ResolvedTaskOptions {
  const parsed = optionsSchema.safeParse(input);
  if (!parsed.success) throw fromZodIssues(`task ${taskName} options`, parsed.error.issues);
  const o = parsed.data;
  /** No time limit in Celery; here Lambda needs one. Five minutes, the seed's "keep tasks short". */
  const timeLimit = o.timeLimit ?? 300;
  if (o.softTimeLimit !== undefined && o.softTimeLimit >= timeLimit) {
    throw ValidationError.of(
      `task ${taskName} options.softTimeLimit`,
      `${o.softTimeLimit} s must be below the hard timeLimit (${timeLimit} s)`,
    );
  }
  return {
    queue: o.queue,
    /** Celery's `max_retries`. */
    maxRetries: o.maxRetries ?? 3,
    /** Celery's `default_retry_delay`: three minutes. */
    defaultRetryDelay: o.defaultRetryDelay ?? 180,
    autoretryFor: o.autoretryFor ?? [],
    /** `true` is Celery's factor of 1 s; `false` means a fixed `defaultRetryDelay`. */
    retryBackoff:
      o.retryBackoff === true
        ? 1
        : o.retryBackoff === false || o.retryBackoff === undefined
          ? 0
          : o.retryBackoff,
    /** Celery's `retry_backoff_max`: ten minutes. */
    retryBackoffMax: o.retryBackoffMax ?? 600,
    /** Celery's `retry_jitter`: on. */
    retryJitter: o.retryJitter ?? true,
    rateLimit: o.rateLimit === undefined ? undefined : parseRateLimit(o.rateLimit),
    timeLimit,
    softTimeLimit: o.softTimeLimit,
    ignoreResult: o.ignoreResult ?? false,
    /** Celery's default: a run shows STARTED only when asked. */
    trackStarted: o.trackStarted ?? false,
    /** Falls back to the configuration's `resultExpires`. */
    resultExpires: o.resultExpires,
    argsSchema: o.argsSchema,
    kwargsSchema: o.kwargsSchema,
  };
}
