import * as z from '../schema.ts';
import { timeZoneProblem } from '../time/zone.ts';

/**
 * The bounds of every envelope field, in one place. A message can come from any producer, any
 * language, or a hostile hand: whatever it asks for must be finite, in range, and cheap to act on.
 */
export const ENVELOPE_BOUNDS = {
  /** Task ids: a UUID is 36; Beat's `<execution-id>-<run>` is under 24. */
  idChars: 128,
  /** Dotted task names (Celery's are module path + function name). */
  taskNameChars: 200,
  /** Free text such as `origin`, counted in UTF-8 bytes. */
  textBytes: 256,
  /** Route queue names (an SQS queue name is at most 80). */
  queueChars: 80,
  /** IANA zone names; the longest today is 32. */
  timeZoneChars: 64,
  /** Every time (eta, expires, sentAt, beat.scheduledAt) lies in [2000-01-01, 2200-01-01) UTC. */
  earliest: Date.UTC(2000, 0, 1),
  latest: Date.UTC(2200, 0, 1),
  /** A task retried once a second for eleven days; Celery's default max_retries is 3. */
  retries: 1_000_000,
  /**
   * One trigger of a sub-minute interval expands into at most 60 runs (every second of a minute);
   * `shared/beat/interval.ts` never plans more, since lcm(N, 60) / N divides 60.
   */
  expansionCount: 60,
  /** The last run of an expansion waits at most SQS's longest delay. */
  expansionSpanSeconds: 900,
  /** Celery's `expire_seconds` of a periodic task: up to ten years. */
  expireSeconds: 10 * 366 * 86_400,
  /** A per-call time limit; the worker keeps the shorter of it and the task's (at most Lambda's 900 s). */
  timeLimitSeconds: 365 * 86_400,
  /** A signature's countdown: a year, as a retry's longest delay. */
  countdownSeconds: 365 * 86_400,
  /** Signatures in one list (link, linkError, the rest of a chain). */
  signatures: 1_000,
  /** Members of one group or chord header. */
  groupSize: 100_000,
} as const;

const utf8 = new TextEncoder();

/** A string of at most `chars` characters and `bytes` UTF-8 bytes (SQS counts bytes). */
export function boundedText(chars: number, bytes: number = chars) {
  return z.string().check(
    z.maxLength(chars),
    z.refine((s) => utf8.encode(s).length <= bytes, { error: `must be at most ${bytes} bytes in UTF-8` }),
  );
}

/** Task ids: what a UUID, Beat's execution ids and most hand-made ids are made of (ASCII, so every regex dialect agrees). */
export const ID_PATTERN = /^[A-Za-z0-9_.:-]+$/;

/**
 * The longest id, in UTF-8 bytes, under which a refused message's failure is still recorded
 * (DynamoDB takes keys up to 2,048 bytes): an id that breaks the id rules still gets a row.
 */
export const RECORDABLE_ID_BYTES = 1024;

const ZONE_SUFFIX = /(?:Z|[+-]\d\d:\d\d)$/;

/**
 * A time written without a zone is UTC, as Celery reads a naive eta (`datetime.utcnow()`): it is
 * given its `Z` here, so nothing downstream can read it in the machine's local zone.
 */
export function asUtc(text: string): string {
  return ZONE_SUFFIX.test(text) ? text : `${text}Z`;
}

/**
 * An ISO 8601 date-time between the earliest and latest times above, with a zone offset or
 * without one (then UTC); what comes out always carries its zone.
 */
export function boundedTime(description?: string) {
  return z
    .pipe(
      z.pipe(
        z.iso.datetime({
          offset: true,
          local: true,
          error: 'must be an ISO 8601 date-time such as 2026-01-31T09:00:00Z (no zone: UTC)',
        }),
        z.transform(asUtc),
      ),
      z.string().check(
        z.refine(
          (text) => {
            const at = Date.parse(text);
            return at >= ENVELOPE_BOUNDS.earliest && at < ENVELOPE_BOUNDS.latest;
          },
          { error: 'must be a time in the years 2000 to 2199 (UTC)' },
        ),
      ),
    )
    .check(
      z.describe(
        `${description ? `${description} ` : ''}ISO 8601, e.g. 2026-01-31T09:00:00Z or +02:00; without a zone it is UTC. Between 2000-01-01 and 2200-01-01 UTC.`,
      ),
    );
}

/** An IANA time zone that this runtime (and so EventBridge Scheduler) knows, spelled as IANA does. */
export const timeZoneName = z.string().check(
  z.maxLength(ENVELOPE_BOUNDS.timeZoneChars),
  z.superRefine((zone, ctx) => {
    const problem = timeZoneProblem(zone);
    if (problem) ctx.addIssue({ code: 'custom', message: problem, input: zone });
  }),
);
