import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../shared/config/index.ts';
import { setLogWriter } from '../../shared/log.ts';
import { type EmfDocument, type MetricsSink, metricDocuments } from '../../shared/worker/index.ts';

// The entry point with a runtime that counts a run, then fails in a way nothing foresaw: no AWS involved.
vi.mock('../../shared/app-worker.ts', () => ({
  createWorkerRuntime: (wiring: { metrics: MetricsSink }) => ({
    processBatch: async () => {
      const [counted] = metricDocuments([{ queue: 'default', task: 'a.counted', state: 'SUCCESS' }], 0);
      wiring.metrics(counted as EmfDocument);
      throw new TypeError('something nobody foresaw');
    },
  }),
}));
vi.mock('../../functions/tasks/index.ts', () => ({}));

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;

describe('the worker entry point (findings 12/13)', () => {
  afterEach(() => setLogWriter(undefined));

  it('returns every record and logs the cause at error when the runtime throws, instead of an unlogged throw', async () => {
    const lines: string[] = [];
    setLogWriter((line) => lines.push(line));
    const { handler } = (await import('../../functions/worker.ts')) as unknown as { handler: Handler };
    const records = ['m-1', 'm-2'].map((messageId) => ({ messageId, body: '{}' }) as SQSRecord);
    const response = await handler({ Records: records }, {
      awsRequestId: 'req-1',
      getRemainingTimeInMillis: () => 60_000,
    } as unknown as Context);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }] });
    const logged = lines.map((line) => JSON.parse(line)).find((entry) => entry.level === 'error');
    expect(logged).toMatchObject({ requestId: 'req-1', records: ['m-1', 'm-2'] });
    expect(logged.cause).toContain('TypeError: something nobody foresaw');
  });

  it('writes what the batch counted before it failed, once (logMetrics on error)', async () => {
    vi.resetModules();
    vi.stubEnv('AWS_LAMBDA_FUNCTION_NAME', 'celerity-worker-default');
    const emf: string[] = [];
    const write = vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
      if (String(chunk).includes('"_aws"')) emf.push(String(chunk));
      return true;
    });
    setLogWriter(() => {});
    try {
      const { handler } = (await import('../../functions/worker.ts')) as unknown as { handler: Handler };
      const context = { awsRequestId: 'req-2', getRemainingTimeInMillis: () => 60_000 } as unknown as Context;
      await handler({ Records: [{ messageId: 'm-1', body: '{}' } as SQSRecord] }, context);
      expect(emf.map((line) => JSON.parse(line))).toEqual([expect.objectContaining({ Task: 'a.counted' })]);
    } finally {
      write.mockRestore();
      vi.unstubAllEnvs();
    }
  });
});

describe('workerConcurrency (finding 13, worker side)', () => {
  it('is unset (the whole batch at once) by default and read from CELERITY_WORKER_CONCURRENCY', () => {
    expect(resolveConfig({}, {}).workerConcurrency).toBeUndefined();
    expect(resolveConfig({}, { CELERITY_WORKER_CONCURRENCY: '4' }).workerConcurrency).toBe(4);
  });

  it('refuses a value that is not a whole number from 1, naming the variable', () => {
    for (const value of ['0', 'two', '1.5', '-3'])
      expect(() => resolveConfig({}, { CELERITY_WORKER_CONCURRENCY: value })).toThrow(
        /CELERITY_WORKER_CONCURRENCY/,
      );
  });
});
