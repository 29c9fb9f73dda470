import type { Context, DynamoDBStreamEvent } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger, setLogWriter } from '../../shared/log.ts';

// The entry point with a sync that only logs, as the real one does with a logger made per container.
vi.mock('../../shared/app.ts', () => ({
  createBeatSync: () => {
    const log = createLogger({ component: 'beat-sync' });
    return {
      handleStream: async () => {
        log.info('stream batch synced');
        return { batchItemFailures: [] };
      },
      reconcile: async () => {
        log.info('reconciled');
        return {};
      },
    };
  },
}));
vi.mock('../../functions/tasks/index.ts', () => ({}));

type Handler = (event: DynamoDBStreamEvent | { action: 'reconcile' }, context: Context) => Promise<unknown>;

describe('the beat-sync entry point', () => {
  afterEach(() => setLogWriter(undefined));

  it('names its invocation on every line it writes (injectLambdaContext)', async () => {
    const lines: Record<string, unknown>[] = [];
    setLogWriter((line) => lines.push(JSON.parse(line)));
    const { handler } = (await import('../../functions/beat-sync.ts')) as unknown as { handler: Handler };
    const context = (awsRequestId: string) =>
      ({ awsRequestId, functionName: 'celerity-beat-sync' }) as unknown as Context;
    await handler({ Records: [] }, context('sync-1'));
    await handler({ action: 'reconcile' }, context('sync-2'));
    expect(lines).toEqual([
      expect.objectContaining({
        message: 'stream batch synced',
        requestId: 'sync-1',
        function: 'celerity-beat-sync',
        coldStart: true,
      }),
      expect.objectContaining({ message: 'reconciled', requestId: 'sync-2', coldStart: false }),
    ]);
  });
});
