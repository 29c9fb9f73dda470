/**
 * What a task costs on AWS at list prices, from what the bench counts: the SQS requests (billed in
 * 64 KiB chunks of payload), the Lambda invocations and their GB-seconds, and DynamoDB's request
 * units worked out from the items each call writes or reads.
 */
import { marshall } from '@aws-sdk/util-dynamodb';
import type { AwsClients } from '../shared/aws/index.ts';
import { RESULT_INDEXES } from '../shared/results/indexes.ts';

/** us-east-1 list prices, on-demand, without free tiers (as of 2026). */
export const PRICES = {
  /** SQS standard queue, per million requests (each 64 KiB chunk of payload a request). */
  sqsPerMillion: 0.4,
  /** Lambda, per million invocations. */
  lambdaPerMillion: 0.2,
  /** Lambda x86_64, per GB-second (the stack's functions do not set an architecture). */
  lambdaPerGbSecond: 0.0000166667,
  /** DynamoDB on-demand, per million write request units. */
  dynamoPerMillionWrites: 0.625,
  /** DynamoDB on-demand, per million read request units. */
  dynamoPerMillionReads: 0.125,
} as const;

export const PRICE_SOURCES = [
  'https://aws.amazon.com/sqs/pricing/',
  'https://aws.amazon.com/lambda/pricing/',
  'https://aws.amazon.com/dynamodb/pricing/on-demand/',
];

type Av = Record<string, unknown>;

/** An item's size as DynamoDB counts it: each attribute's name and value, in bytes. */
export function itemBytes(item: Record<string, Av> | undefined): number {
  let bytes = 0;
  for (const [name, value] of Object.entries(item ?? {}))
    bytes += Buffer.byteLength(name) + valueBytes(value);
  return bytes;
}

function valueBytes(value: Av): number {
  const [type, v] = Object.entries(value)[0] ?? ['NULL', true];
  switch (type) {
    case 'S':
      return Buffer.byteLength(v as string);
    case 'N':
      return Math.ceil((v as string).replace(/^-|\.|^0+/g, '').length / 2) + 1;
    case 'B':
      return Buffer.from(v as string, 'base64').length;
    case 'M':
      return 3 + itemBytes(v as Record<string, Av>);
    case 'L':
      return 3 + (v as Av[]).reduce((sum, element) => sum + 1 + valueBytes(element), 0);
    case 'SS':
    case 'NS':
      return (v as string[]).reduce((sum, s) => sum + Buffer.byteLength(s), 0);
    default:
      return 1; // BOOL, NULL
  }
}

const units = (bytes: number, unit: number) => Math.max(1, Math.ceil(bytes / unit));
const KIB = 1024;

/**
 * The results table's indexes are written too, at one unit a KiB like any write (not two: an
 * index is updated after the transaction, not within it). A put that adds a row to an index is
 * one write; one that moves it to another key (a new `status`) is two, the old entry's delete
 * and the new one's put; one that keeps its key rewrites it in place, one.
 * The rows before each put are remembered here, by task id, to tell which.
 */
function indexUnits(item: Record<string, Av>, before: Record<string, Av> | undefined): number {
  let writes = 0;
  for (const { partitionKey, sortKey } of Object.values(RESULT_INDEXES)) {
    const key = (row: Record<string, Av> | undefined) =>
      row?.[partitionKey] && row[sortKey] ? JSON.stringify([row[partitionKey], row[sortKey]]) : undefined;
    const [was, is] = [key(before), key(item)];
    if (was && is) writes += was === is ? 1 : 2;
    else if (was || is) writes += 1;
  }
  return writes;
}

/** Billable units of one DynamoDB call, from its request (and, for reads, its answer). */
export function dynamoUnits(
  operation: string,
  input: Av,
  output: Av,
  rows: Map<string, Record<string, Av>>,
): { writes: number; reads: number } {
  const transactItems = (input.TransactItems as Av[] | undefined) ?? [];
  // A results row (it has a task id) also writes the table's indexes.
  const withIndexes = (item: Record<string, Av>) => {
    const id = (item.taskId as Av | undefined)?.S as string | undefined;
    if (id === undefined) return 0;
    const writes = indexUnits(item, rows.get(id));
    rows.set(id, item);
    return writes;
  };
  switch (operation) {
    case 'TransactWriteItems':
      // Two units per KiB of each item in a transaction.
      return {
        writes: transactItems.reduce((sum, entry) => {
          const action = Object.values(entry)[0] as Av;
          const item = (action.Item ?? action.Key) as Record<string, Av>;
          return sum + 2 * units(itemBytes(item), KIB) + (action.Item ? withIndexes(item) : 0);
        }, 0),
        reads: 0,
      };
    case 'PutItem': {
      const item = input.Item as Record<string, Av>;
      return { writes: units(itemBytes(item), KIB) + withIndexes(item), reads: 0 };
    }
    case 'UpdateItem':
    case 'DeleteItem':
      return {
        writes: units(itemBytes((output.Attributes ?? input.Key) as Record<string, Av>), KIB),
        reads: 0,
      };
    case 'BatchWriteItem': {
      const requests = Object.values((input.RequestItems as Record<string, Av[]>) ?? {}).flat();
      const writes = requests.reduce((sum, r) => {
        const put = r.PutRequest as Av | undefined;
        return sum + units(itemBytes((put?.Item ?? (r.DeleteRequest as Av)?.Key) as Record<string, Av>), KIB);
      }, 0);
      return { writes, reads: 0 };
    }
    case 'GetItem': {
      const full = units(itemBytes(output.Item as Record<string, Av>), 4 * KIB);
      return { writes: 0, reads: input.ConsistentRead ? full : full / 2 };
    }
    case 'Query': {
      const bytes = ((output.Items as Record<string, Av>[]) ?? []).reduce((sum, i) => sum + itemBytes(i), 0);
      const full = units(bytes, 4 * KIB);
      return { writes: 0, reads: input.ConsistentRead ? full : full / 2 };
    }
    default:
      return { writes: 0, reads: 0 };
  }
}

/** SQS bills each 64 KiB chunk of a call's payload (the messages sent or received) as a request. */
export function sqsChunks(operation: string, input: Av, output: Av): number {
  const messageBytes = (m: Av) =>
    Buffer.byteLength((m.MessageBody ?? m.Body ?? '') as string) +
    Buffer.byteLength(JSON.stringify(m.MessageAttributes ?? {}));
  const payload =
    operation === 'SendMessageBatch'
      ? ((input.Entries as Av[]) ?? []).reduce((sum, e) => sum + messageBytes(e), 0)
      : operation === 'SendMessage'
        ? messageBytes(input)
        : operation === 'ReceiveMessage'
          ? ((output.Messages as Av[]) ?? []).reduce((sum, m) => sum + messageBytes(m), 0)
          : 0;
  return units(payload, 64 * KIB);
}

export interface Meter {
  sqsChunks: number;
  writeUnits: number;
  readUnits: number;
  reset(): void;
}

type Stack = {
  middlewareStack: {
    add(
      middleware: (
        next: (args: { input: Av }) => Promise<{ output: Av }>,
        context: { commandName?: string },
      ) => (args: { input: Av }) => Promise<{ output: Av }>,
      options: { step: 'build'; name: string },
    ): void;
  };
};

/** Meters the billable units of every SQS and DynamoDB call the clients make. */
export function meterClients(clients: AwsClients): Meter {
  const meter: Meter = {
    sqsChunks: 0,
    writeUnits: 0,
    readUnits: 0,
    reset() {
      meter.sqsChunks = 0;
      meter.writeUnits = 0;
      meter.readUnits = 0;
    },
  };
  const watch = (client: unknown, count: (operation: string, input: Av, output: Av) => void) =>
    // After the document client's marshalling (requests in DynamoDB's own form), and around its
    // unmarshalling (answers as plain values, marshalled again below to be measured).
    (client as Stack).middlewareStack.add(
      (next, context) => async (args) => {
        let output: Av = {};
        try {
          const result = await next(args);
          output = result.output ?? {};
          return result;
        } finally {
          // A call that failed is counted too: AWS bills requests, answered or refused.
          count(context.commandName?.replace(/Command$/, '') ?? '', args.input, output);
        }
      },
      { step: 'build', name: 'celerityBenchMeter' },
    );
  watch(clients.sqs, (operation, input, output) => {
    meter.sqsChunks += sqsChunks(operation, input, output);
  });
  const rows = new Map<string, Record<string, Av>>();
  const plain = (item: unknown) =>
    item
      ? (marshall(item, { removeUndefinedValues: true, convertClassInstanceToMap: true }) as Av)
      : undefined;
  watch(clients.dynamo, (operation, input, output) => {
    const answer = {
      Item: plain(output.Item),
      Items: (output.Items as unknown[] | undefined)?.map(plain),
      Attributes: plain(output.Attributes),
    };
    const { writes, reads } = dynamoUnits(operation, input, answer, rows);
    meter.writeUnits += writes;
    meter.readUnits += reads;
  });
  return meter;
}

export interface PerTask {
  sqsChunks: number;
  invocations: number;
  gbSeconds: number;
  writeUnits: number;
  readUnits: number;
}

/** Dollars per million tasks, in total and by service. */
export function costPerMillion(t: PerTask): { total: number; sqs: number; lambda: number; dynamo: number } {
  const m = 1_000_000;
  const sqs = t.sqsChunks * PRICES.sqsPerMillion;
  const lambda = t.invocations * PRICES.lambdaPerMillion + t.gbSeconds * m * PRICES.lambdaPerGbSecond;
  const dynamo = t.writeUnits * PRICES.dynamoPerMillionWrites + t.readUnits * PRICES.dynamoPerMillionReads;
  return { total: sqs + lambda + dynamo, sqs, lambda, dynamo };
}
