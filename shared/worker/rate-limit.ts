import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isAwsError } from '../aws/errors.ts';
import type { RateLimit } from '../task/options.ts';

export interface RateGrant {
  /** How many runs may start now. */
  granted: number;
  /** Epoch ms at which the window of the grant ends: runs not started by then must not start. */
  windowEnd: number;
  windowSeconds: number;
}

const ATTEMPTS = 4;

/**
 * A rate limit shared by every worker: one counter per task and clock-aligned window (a second,
 * minute or hour) in DynamoDB. A window never admits more runs than the limit, whichever workers
 * ask; the counters expire by TTL.
 */
export class RateLimiter {
  readonly #dynamo: DynamoDBDocumentClient;
  readonly #table: string;

  constructor(options: { dynamo: DynamoDBDocumentClient; table: string }) {
    this.#dynamo = options.dynamo;
    this.#table = options.table;
  }

  /** Takes up to `wanted` runs from the current window of `taskName`'s limit. */
  async acquire(
    taskName: string,
    limit: RateLimit,
    wanted: number,
    now: number = Date.now(),
  ): Promise<RateGrant> {
    const windowMs = limit.windowSeconds * 1000;
    const windowStart = Math.floor(now / windowMs) * windowMs;
    const windowEnd = windowStart + windowMs;
    const key = `${taskName}#${limit.windowSeconds}#${windowStart}`;
    let ask = Math.min(wanted, limit.limit);
    for (let attempt = 0; attempt < ATTEMPTS && ask > 0; attempt++) {
      try {
        await this.#dynamo.send(
          new UpdateCommand({
            TableName: this.#table,
            Key: { key },
            UpdateExpression: 'ADD #count :ask SET expiresAt = :expiresAt',
            ConditionExpression: 'attribute_not_exists(#count) OR #count <= :most',
            ExpressionAttributeNames: { '#count': 'count' },
            ExpressionAttributeValues: {
              ':ask': ask,
              ':most': limit.limit - ask,
              ':expiresAt': Math.ceil(windowEnd / 1000) + 3600,
            },
            ReturnValuesOnConditionCheckFailure: 'ALL_OLD',
          }),
        );
        return { granted: ask, windowEnd, windowSeconds: limit.windowSeconds };
      } catch (error) {
        if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
        const used = Number(error.Item?.count?.N ?? limit.limit);
        ask = Math.min(ask, limit.limit - used);
      }
    }
    return { granted: 0, windowEnd, windowSeconds: limit.windowSeconds };
  }
}

/**
 * Seconds to hold back the `position`-th run (from 0) that did not fit this window, so that the
 * overflow spreads over the windows that follow instead of all arriving at once in the next.
 */
export function deferralSeconds(grant: RateGrant, limit: RateLimit, position: number, now: number): number {
  const windowsAhead = Math.floor(position / limit.limit);
  const untilNext = (grant.windowEnd - now) / 1000;
  return Math.max(1, Math.ceil(untilNext + windowsAhead * grant.windowSeconds));
}
