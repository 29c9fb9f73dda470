import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { type ClaimRequest, ResultStore } from '../../shared/results/index.ts';

const FOUR_MB = 4 * 1024 * 1024;

/** A stand-in DynamoDB for error paths only: refuses as DynamoDB does, counting UTF-8 bytes. */
function fakeDynamo(refuse: (items: { Put: { Item: { taskId: string } } }[]) => Error | undefined) {
  const calls: { items: number; bytes: number }[] = [];
  const client = {
    async send(command: { input: { TransactItems: { Put: { Item: { taskId: string } } }[] } }) {
      const items = command.input.TransactItems;
      const bytes = Buffer.byteLength(JSON.stringify(items));
      const error = refuse(items);
      if (error) throw error;
      calls.push({ items: items.length, bytes });
      return {};
    },
  };
  return { dynamo: client as unknown as DynamoDBDocumentClient, calls };
}

const validation = (message: string) => Object.assign(new Error(message), { name: 'ValidationException' });

function claim(taskId: string, args = '[]'): ClaimRequest {
  return {
    taskId,
    taskName: 'tests.bytes',
    status: 'PENDING',
    retries: 0,
    args,
    kwargs: '{}',
    leaseUntil: Date.now() + 60_000,
    leaseToken: `token-${taskId}`,
  };
}

describe('transaction sizes in UTF-8 bytes (finding 8)', () => {
  it('splits claims whose multibyte text passes 4 MB in bytes though not in characters', async () => {
    const { dynamo, calls } = fakeDynamo((items) =>
      Buffer.byteLength(JSON.stringify(items)) > FOUR_MB
        ? validation('Transaction request cannot be larger than 4 MB')
        : undefined,
    );
    const store = new ResultStore({ dynamo, table: 'results' });
    // 110,000 euro signs: 110,000 UTF-16 units but 330,000 bytes each; 13 of them pass 4 MB.
    const requests = Array.from({ length: 13 }, (_, i) =>
      claim(`bytes-${i}`, JSON.stringify(['€'.repeat(110_000)])),
    );
    const outcomes = await store.claim(requests);
    expect(outcomes).toEqual(requests.map(() => ({ claimed: true })));
    expect(calls.length).toBeGreaterThanOrEqual(2);
    for (const call of calls) expect(call.bytes).toBeLessThanOrEqual(FOUR_MB);
    expect(calls.reduce((sum, call) => sum + call.items, 0)).toBe(13);
  });

  it('a transaction refused whole for one item fails that item alone', async () => {
    const { dynamo } = fakeDynamo((items) =>
      items.some((item) => item.Put.Item.taskId === 'bad') ? validation('Key too long') : undefined,
    );
    const store = new ResultStore({ dynamo, table: 'results' });
    const outcomes = await store.claim(['a', 'b', 'bad', 'c', 'd'].map((id) => claim(id)));
    expect(outcomes.map((o) => o.claimed)).toEqual([true, true, false, true, true]);
    expect(outcomes[2]).toMatchObject({ why: 'error', message: expect.stringContaining('Key too long') });
  });

  it('any other failure of a call is its items’ outcome, never a throw for the set', async () => {
    const throttled = Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' });
    const { dynamo } = fakeDynamo(() => throttled);
    const store = new ResultStore({ dynamo, table: 'results' });
    const outcomes = await store.claim([claim('x'), claim('y')]);
    expect(outcomes).toEqual([
      { claimed: false, why: 'error', message: 'ThrottlingException: Rate exceeded' },
      { claimed: false, why: 'error', message: 'ThrottlingException: Rate exceeded' },
    ]);
  });
});
