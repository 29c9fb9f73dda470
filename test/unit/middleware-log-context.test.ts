import { setTimeout as sleep } from 'node:timers/promises';
import type { Context } from 'aws-lambda';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';

type Line = Record<string, unknown>;

/**
 * A fresh copy of the logger and the middleware for each test (the cold start is the module's own
 * state), a logger made before any invocation as a runtime's is, and middy around a handler.
 */
async function setUp(handlerBody: (log: (message: string) => void) => Promise<unknown>) {
  vi.resetModules();
  const { createLogger, setLogWriter } = await import('../../shared/log.ts');
  const { injectLambdaContext } = await import('../../shared/middleware/index.ts');
  const { default: middy } = await import('@middy/core');
  const lines: Line[] = [];
  setLogWriter((line) => lines.push(JSON.parse(line)));
  const logger = createLogger({ component: 'test' }, { level: 'debug' });
  const handler = middy<unknown, unknown, Error, Context>()
    .use(injectLambdaContext())
    .handler(() => handlerBody((message) => logger.info(message)));
  return { handler, lines, log: (message: string) => logger.info(message) };
}

const context = (requestId: string) =>
  ({ awsRequestId: requestId, functionName: 'celerity-worker' }) as unknown as Context;

describe('injectLambdaContext', () => {
  beforeEach(() => {
    delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
  });
  afterEach(() => {
    delete process.env.AWS_LAMBDA_INITIALIZATION_TYPE;
  });

  it('puts the request id, the function and the cold start on every line of the invocation', async () => {
    const { handler, lines } = await setUp(async (log) => {
      log('before an await');
      await sleep(5);
      log('after an await');
    });
    await handler({}, context('req-1'));
    await handler({}, context('req-2'));
    expect(
      lines.map(({ message, requestId, function: fn, coldStart }) => ({ message, requestId, fn, coldStart })),
    ).toEqual([
      { message: 'before an await', requestId: 'req-1', fn: 'celerity-worker', coldStart: true },
      { message: 'after an await', requestId: 'req-1', fn: 'celerity-worker', coldStart: true },
      { message: 'before an await', requestId: 'req-2', fn: 'celerity-worker', coldStart: false },
      { message: 'after an await', requestId: 'req-2', fn: 'celerity-worker', coldStart: false },
    ]);
  });

  it('names each of two invocations running at once in one process (the local cloud) on its own lines', async () => {
    const { handler, lines } = await setUp(async (log) => {
      for (let step = 0; step < 3; step++) {
        log(`step ${step}`);
        await sleep(1);
      }
    });
    await Promise.all([handler({}, context('req-a')), handler({}, context('req-b'))]);
    expect(lines).toHaveLength(6);
    const of = (requestId: string) => lines.filter((line) => line.requestId === requestId);
    expect(of('req-a').map((line) => line.message)).toEqual(['step 0', 'step 1', 'step 2']);
    expect(of('req-b').map((line) => line.message)).toEqual(['step 0', 'step 1', 'step 2']);
  });

  it('leaves no invocation on the lines written after it ended, returned or thrown', async () => {
    let fail = false;
    const { handler, lines, log } = await setUp(async () => {
      if (fail) throw new Error('the handler fell over');
    });
    await handler({}, context('req-done'));
    log('after a return');
    fail = true;
    await expect(handler({}, context('req-failed'))).rejects.toThrow('the handler fell over');
    log('after a throw');
    expect(lines).toEqual([
      expect.not.objectContaining({ requestId: expect.anything() }),
      expect.not.objectContaining({ requestId: expect.anything() }),
    ]);
  });

  it('does not call an invocation cold when provisioned concurrency initialised the container', async () => {
    process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'provisioned-concurrency';
    const { handler, lines } = await setUp(async (log) => log('first'));
    await handler({}, context('req-warm'));
    expect(lines[0]).toMatchObject({ requestId: 'req-warm', coldStart: false });
  });
});
