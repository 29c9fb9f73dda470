import { describe, expect, it } from 'vitest';
import { costPerMillion, dynamoUnits, itemBytes, sqsChunks } from '../../bench/cost.ts';
import { withIndexKeys } from '../../shared/results/indexes.ts';

/** A results row as the worker puts it (with its index keys), in DynamoDB's own form. */
const row = (status: string, extra: Record<string, unknown> = {}) => {
  const plain = {
    taskId: 't-1',
    taskName: 'apps.demo.tasks.noop',
    status,
    dateCreated: '2026-12-01T00:00:00.000Z',
    ...(status === 'SUCCESS' ? { dateDone: '2026-12-01T00:00:01.000Z' } : {}),
  };
  const keyed = withIndexKeys(plain as Parameters<typeof withIndexKeys>[0]) as Record<string, string>;
  return { ...Object.fromEntries(Object.entries(keyed).map(([k, v]) => [k, { S: v }])), ...extra };
};
const transact = (item: Record<string, unknown>) => ({
  TransactItems: [{ Put: { TableName: 'results', Item: item } }],
});

describe('the bench cost line', () => {
  it('sizes items as DynamoDB does: attribute names and values in bytes', () => {
    expect(itemBytes({ taskId: { S: 'abc' } })).toBe(9);
    expect(itemBytes({ n: { N: '12345' } })).toBe(1 + 4);
    expect(itemBytes({ m: { M: { a: { BOOL: true } } } })).toBe(1 + 3 + 2);
  });

  it('bills a claim and its outcome as two transactional puts plus the index entries they move', () => {
    const rows = new Map();
    const claim = dynamoUnits('TransactWriteItems', transact(row('PENDING')), {}, rows);
    // 2 for the transactional put; 1 entry added to each of byCreated, byStatus and byTaskName.
    expect(claim).toEqual({ writes: 5, reads: 0 });
    const outcome = dynamoUnits(
      'TransactWriteItems',
      transact(row('SUCCESS', { result: { S: 'null' } })),
      {},
      rows,
    );
    // 2 for the put; byStatus moves (delete + put), byCreated and byTaskName are rewritten in
    // place, byDone gains its entry (the row is done now).
    expect(outcome).toEqual({ writes: 7, reads: 0 });
  });

  it('counts an SQS call once per 64 KiB of the messages it carries', () => {
    const entries = (bytes: number) => ({
      Entries: Array.from({ length: 10 }, () => ({ MessageBody: 'x'.repeat(bytes) })),
    });
    expect(sqsChunks('SendMessageBatch', entries(500), {})).toBe(1);
    expect(sqsChunks('SendMessageBatch', entries(20_000), {})).toBe(4);
    expect(sqsChunks('ReceiveMessage', {}, { Messages: [] })).toBe(1);
  });

  it('prices a million tasks from the units per task', () => {
    const cost = costPerMillion({
      sqsChunks: 0.3,
      invocations: 0.01,
      gbSeconds: 0.001,
      writeUnits: 9,
      readUnits: 0,
    });
    expect(cost.dynamo).toBeCloseTo(5.625);
    expect(cost.sqs).toBeCloseTo(0.12);
    expect(cost.total).toBeCloseTo(5.625 + 0.12 + 0.002 + 1000 * 0.0000166667);
  });
});
