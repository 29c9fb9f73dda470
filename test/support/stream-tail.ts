import {
  DescribeStreamCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import { createStreamsClient } from '../../localstack/event-sources/stream-reader.ts';

/**
 * Reads a table's stream from the emulator, from the start, a call at a time: each `next()` gives
 * the records written since the last one, in the shape Lambda hands to a stream function. For
 * tests that drive the sync function by hand, record by record.
 */
export class StreamTail {
  readonly #client = createStreamsClient();
  readonly #streamArn: string;
  readonly #after = new Map<string, string>();

  constructor(streamArn: string) {
    this.#streamArn = streamArn;
  }

  async next(): Promise<DynamoDBRecord[]> {
    const { StreamDescription } = await this.#client.send(
      new DescribeStreamCommand({ StreamArn: this.#streamArn }),
    );
    const out: DynamoDBRecord[] = [];
    for (const shard of StreamDescription?.Shards ?? []) {
      const shardId = shard.ShardId as string;
      const after = this.#after.get(shardId);
      const { ShardIterator } = await this.#client.send(
        new GetShardIteratorCommand({
          StreamArn: this.#streamArn,
          ShardId: shardId,
          ...(after
            ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER', SequenceNumber: after }
            : { ShardIteratorType: 'TRIM_HORIZON' }),
        }),
      );
      let iterator = ShardIterator;
      while (iterator) {
        const page = await this.#client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 1000 }));
        const records = page.Records ?? [];
        for (const record of records) {
          out.push({ ...record, eventSourceARN: this.#streamArn } as unknown as DynamoDBRecord);
          const sequence = record.dynamodb?.SequenceNumber;
          if (sequence) this.#after.set(shardId, sequence);
        }
        if (records.length === 0) break;
        iterator = page.NextShardIterator;
      }
    }
    return out;
  }
}
