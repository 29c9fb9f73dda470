import type { Context, SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { beforeAll, describe, expect, it } from 'vitest';
import { createResultStore } from '../../shared/app.ts';
import { configure } from '../../shared/config/index.ts';
import { encodeEnvelope } from '../../shared/envelope/index.ts';
import type { ResultStore } from '../../shared/results/index.ts';
import { useEmulator } from '../support/emulator.ts';
import { provisionStack, sqsRecord } from '../support/stack.ts';

useEmulator();

type Handler = (event: SQSEvent, context: Context) => Promise<SQSBatchResponse>;
let handler: Handler;
let store: ResultStore;

beforeAll(async () => {
  const stack = await provisionStack();
  const worker = Object.values(stack.resources.functions).find((f) => f.entry === 'functions/worker.ts');
  // The function's environment exactly as the stack sets it, then the entry point as Lambda loads it.
  Object.assign(process.env, worker?.environment, { LOG_LEVEL: 'silent' });
  // Synthesizing the stack loaded the app's config already; have it read the environment again.
  configure({});
  ({ handler } = (await import('../../functions/worker.ts')) as unknown as { handler: Handler });
  store = createResultStore({ config: stack.config, clients: stack.clients });
});

function context(): Context {
  const deadline = Date.now() + 60_000;
  return {
    awsRequestId: 'entry-test',
    getRemainingTimeInMillis: () => deadline - Date.now(),
  } as unknown as Context;
}

describe('functions/worker.ts, the Lambda entry point', () => {
  it('runs a batch from its environment alone and answers with a partial batch response', async () => {
    const good = sqsRecord(
      encodeEnvelope({ v: 1, id: 'entry-add', task: 'apps.demo.tasks.add', args: [2, 3] }).body,
    );
    const bad = sqsRecord('{"v":1,"id":"entry-bad","task":"apps.demo.tasks.add","args":["two",3]}');
    const response = await handler({ Records: [good, bad] }, context());
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: bad.messageId }] });
    expect(await store.get('entry-add')).toMatchObject({
      status: 'SUCCESS',
      result: '5',
      worker: 'entry-test',
    });
    expect(await store.get('entry-bad')).toMatchObject({ status: 'FAILURE', errorType: 'ValidationError' });
  });
});
