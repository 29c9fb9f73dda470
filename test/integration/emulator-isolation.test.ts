import { CreateTableCommand, TransactionCanceledException } from '@aws-sdk/client-dynamodb';
import { BatchWriteCommand, GetCommand, PutCommand, TransactWriteCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { type AwsClients, createAwsClients } from '../../shared/aws/index.ts';
import { useEmulator } from '../support/emulator.ts';

const { endpoint } = useEmulator();
const TABLE = 'isolation';
let clients: AwsClients;

beforeAll(async () => {
  clients = createAwsClients({ endpoint, region: 'us-east-1' });
  await clients.dynamo.send(
    new CreateTableCommand({
      TableName: TABLE,
      BillingMode: 'PAY_PER_REQUEST',
      AttributeDefinitions: [{ AttributeName: 'id', AttributeType: 'S' }],
      KeySchema: [{ AttributeName: 'id', KeyType: 'HASH' }],
    }),
  );
  // A table of some size, so a cancelled transaction's copy of it takes a while to put back.
  for (let start = 0; start < 600; start += 25) {
    const items = Array.from({ length: 25 }, (_, i) => ({ id: `filler-${start + i}`, pad: 'x'.repeat(200) }));
    await clients.dynamo.send(
      new BatchWriteCommand({ RequestItems: { [TABLE]: items.map((Item) => ({ PutRequest: { Item } })) } }),
    );
  }
});

describe('the emulator (moto through localstack/emulator/moto_server.py)', () => {
  it('loses no write made while another transaction is cancelled and rolled back', async () => {
    // moto rolls a cancelled TransactWriteItems back by putting back a copy of the whole table:
    // unpatched, a write another request thread made meanwhile vanished (a SUCCESS row read
    // PENDING forever in the chaos drill). Each round races writes against cancelled transactions.
    const written: string[] = [];
    for (let round = 0; round < 40; round++) {
      const cancelled = Array.from({ length: 3 }, (_, t) =>
        clients.dynamo
          .send(
            new TransactWriteCommand({
              // Many items, the last refused: the whole transaction is rolled back at its end.
              TransactItems: Array.from({ length: 50 }, (_, i) => ({
                Put: {
                  TableName: TABLE,
                  Item: { id: `tx-${round}-${t}-${i}` },
                  ...(i === 49 ? { ConditionExpression: 'attribute_exists(nope)' } : {}),
                },
              })),
            }),
          )
          .then(
            () => 'committed',
            (error: unknown) => (error instanceof TransactionCanceledException ? 'cancelled' : error),
          ),
      );
      const writes = Array.from({ length: 10 }, (_, i) => {
        const id = `row-${round}-${i}`;
        written.push(id);
        return clients.dynamo.send(new PutCommand({ TableName: TABLE, Item: { id } }));
      });
      const outcomes = await Promise.all([...cancelled, ...writes]);
      expect(outcomes.slice(0, 3)).toEqual(['cancelled', 'cancelled', 'cancelled']);
    }
    const missing: string[] = [];
    for (const id of written) {
      const { Item } = await clients.dynamo.send(new GetCommand({ TableName: TABLE, Key: { id } }));
      if (!Item) missing.push(id);
    }
    expect(missing).toEqual([]);
  });

  it('rolls a cancelled transaction back whole: changed items restored, new ones gone, nothing else touched', async () => {
    // The launcher replaces moto's whole-table copy with an undo log of the items named.
    await clients.dynamo.send(new PutCommand({ TableName: TABLE, Item: { id: 'kept', v: 1 } }));
    const error = await clients.dynamo
      .send(
        new TransactWriteCommand({
          TransactItems: [
            { Put: { TableName: TABLE, Item: { id: 'kept', v: 2 } } },
            { Put: { TableName: TABLE, Item: { id: 'born', v: 3 } } },
            { Delete: { TableName: TABLE, Key: { id: 'filler-7' } } },
            {
              Update: {
                TableName: TABLE,
                Key: { id: 'absent' },
                UpdateExpression: 'SET v = :v',
                ConditionExpression: 'attribute_exists(id)',
                ExpressionAttributeValues: { ':v': 9 },
              },
            },
          ],
        }),
      )
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(TransactionCanceledException);
    const read = async (id: string) =>
      (await clients.dynamo.send(new GetCommand({ TableName: TABLE, Key: { id } }))).Item;
    expect(await read('kept')).toEqual({ id: 'kept', v: 1 });
    expect(await read('born')).toBeUndefined();
    expect(await read('absent')).toBeUndefined();
    expect(await read('filler-7')).toEqual({ id: 'filler-7', pad: 'x'.repeat(200) });
  });
});
