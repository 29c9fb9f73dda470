import {
  DescribeStreamCommand,
  DynamoDBStreamsClient,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type Shard,
} from '@aws-sdk/client-dynamodb-streams';
import type { DynamoDBRecord } from 'aws-lambda';
import {
  type AwsClientOptions,
  clientSettings,
  isAwsError,
  type RequestCounter,
} from '../../shared/aws/index.ts';
import type { RecordFilter } from './event-filter.ts';
import { sequenceOf, toStreamRecord } from './stream-event.ts';

/** Lambda's limit on an invocation's payload: a batch stops short of it. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;
const GET_RECORDS_LIMIT = 1000;

/**
 * A client for the stream API made as the factory (`shared/aws/clients.ts`) makes its clients —
 * same location, attempts and timeout — and counted with them when given their counter.
 */
export function createStreamsClient(
  options: AwsClientOptions = {},
  requests?: RequestCounter,
): DynamoDBStreamsClient {
  const client = new DynamoDBStreamsClient(clientSettings(options));
  return requests ? requests.attach(client) : client;
}

export interface ReaderContext {
  streams: DynamoDBStreamsClient;
  streamArn: string;
  region: string;
  filter: RecordFilter;
  /** Options for each request: cut short at stop, and bounded. */
  request: () => { abortSignal: AbortSignal };
  /** After each GetRecords, with how many records matched no filter. */
  onRead: (filteredOut: number) => void;
}

interface Pending {
  record: DynamoDBRecord;
  bytes: number;
  queuedAt: number;
}

/** Every shard of a stream, paging through DescribeStream. */
export async function describeShards(context: ReaderContext): Promise<Shard[]> {
  const shards: Shard[] = [];
  let after: string | undefined;
  do {
    const { StreamDescription: d } = await context.streams.send(
      new DescribeStreamCommand({ StreamArn: context.streamArn, ExclusiveStartShardId: after }),
      context.request(),
    );
    shards.push(...(d?.Shards ?? []));
    after = d?.LastEvaluatedShardId;
  } while (after);
  return shards;
}

/**
 * One shard as an event source mapping reads it: an iterator taken up again after the last record
 * read when it is lost, and a queue of the records that passed the filter but are not finished —
 * its head is always the next batch, so a retry or a bisection never reads the stream again.
 */
export class ShardReader {
  readonly id: string;
  readonly parentId: string | undefined;
  /** The stream has nothing more for this shard (it was closed and is read to its end). */
  ended = false;
  /** Read to its end and every record finished: its children may start. */
  done = false;
  /** Has taken its first iterator: with LATEST, writes from here on are seen. */
  positioned = false;
  loop: Promise<void> | undefined;
  readonly #queue: Pending[] = [];
  readonly #context: ReaderContext;
  #start: 'TRIM_HORIZON' | 'LATEST';
  #iterator: string | undefined;
  #lastRead: string | undefined;
  #bytes = 0;

  constructor(shard: Shard, start: 'TRIM_HORIZON' | 'LATEST', context: ReaderContext) {
    this.id = shard.ShardId as string;
    this.parentId = shard.ParentShardId;
    this.#start = start;
    this.#context = context;
  }

  get queued(): number {
    return this.#queue.length;
  }

  /** When the record at the head of the queue was read. */
  get headQueuedAt(): number | undefined {
    return this.#queue[0]?.queuedAt;
  }

  full(batchSize: number): boolean {
    return this.#queue.length >= batchSize || this.#bytes >= MAX_PAYLOAD_BYTES;
  }

  /** How many records from the head make the next batch: up to `batchSize`, within the payload limit. */
  batchLength(batchSize: number): number {
    let count = 0;
    let bytes = 0;
    for (const pending of this.#queue) {
      if (count >= batchSize || (count > 0 && bytes + pending.bytes > MAX_PAYLOAD_BYTES)) break;
      count++;
      bytes += pending.bytes;
    }
    return count;
  }

  /** The first `n` records of the queue. */
  head(n: number): DynamoDBRecord[] {
    return this.#queue.slice(0, n).map((p) => p.record);
  }

  /** Finishes the first `n` records: the checkpoint moves past them. */
  take(n: number): void {
    for (const pending of this.#queue.splice(0, n)) this.#bytes -= pending.bytes;
  }

  /**
   * One GetRecords (after a GetShardIterator when there is no iterator); the number of records
   * read, filtered or not. On failure the iterator is dropped, so the next read resumes after the
   * last record read, and the error is thrown.
   */
  async read(): Promise<number> {
    const c = this.#context;
    try {
      if (!this.#iterator) {
        const position = this.#lastRead
          ? { ShardIteratorType: 'AFTER_SEQUENCE_NUMBER' as const, SequenceNumber: this.#lastRead }
          : { ShardIteratorType: this.#start };
        const { ShardIterator } = await c.streams.send(
          new GetShardIteratorCommand({ StreamArn: c.streamArn, ShardId: this.id, ...position }),
          c.request(),
        );
        this.positioned = true;
        if (!ShardIterator) {
          this.ended = true;
          return 0;
        }
        this.#iterator = ShardIterator;
      }
      const response = await c.streams.send(
        new GetRecordsCommand({ ShardIterator: this.#iterator, Limit: GET_RECORDS_LIMIT }),
        c.request(),
      );
      this.#iterator = response.NextShardIterator ?? undefined;
      if (!this.#iterator) this.ended = true;
      const now = Date.now();
      let filteredOut = 0;
      for (const raw of response.Records ?? []) {
        const record = toStreamRecord(raw, c.streamArn, c.region);
        this.#lastRead = sequenceOf(record);
        if (!c.filter.matches(record)) {
          filteredOut++;
          continue;
        }
        const bytes = Buffer.byteLength(JSON.stringify(record));
        this.#bytes += bytes;
        this.#queue.push({ record, bytes, queuedAt: now });
      }
      c.onRead(filteredOut);
      return response.Records?.length ?? 0;
    } catch (error) {
      this.#iterator = undefined;
      if (isAwsError(error, 'TrimmedDataAccessException')) {
        // What we were reading has aged out of the stream: go on from the oldest that remains.
        this.#lastRead = undefined;
        this.#start = 'TRIM_HORIZON';
      }
      throw error;
    }
  }
}
