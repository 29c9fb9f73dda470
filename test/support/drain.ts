import { DeleteMessageBatchCommand, ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { createWorkerRuntime } from '../../shared/app.ts';
import { defineTask } from '../../shared/task/define.ts';
import { defaultRegistry } from '../../shared/task/registry.ts';
import type { AdminApi } from './admin.ts';
import { invocation, sqsRecord } from './stack.ts';

/** `tests.admin.double`: doubles its argument; a negative one fails (stats and replay need both outcomes). */
export function defineDouble(): void {
  if (defaultRegistry.has('tests.admin.double')) return;
  defineTask('tests.admin.double', async (_ctx, x: number) => {
    if (x < 0) throw new Error(`negative: ${x}`);
    return x * 2;
  });
}

/** Runs every message waiting on the default queue through the worker runtime, as the mapping would. */
export async function drain(a: AdminApi): Promise<number> {
  const runtime = createWorkerRuntime({
    config: a.stack.config,
    clients: a.stack.clients,
    registry: defaultRegistry,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  const url = a.stack.config.queues.default?.url as string;
  let ran = 0;
  for (let empty = 0; empty < 2; ) {
    const { Messages = [] } = await a.stack.clients.sqs.send(
      new ReceiveMessageCommand({ QueueUrl: url, MaxNumberOfMessages: 10, WaitTimeSeconds: 1 }),
    );
    if (Messages.length === 0) {
      empty++;
      continue;
    }
    await runtime.processBatch(
      Messages.map((m) => sqsRecord(m.Body as string)),
      invocation(),
    );
    await a.stack.clients.sqs.send(
      new DeleteMessageBatchCommand({
        QueueUrl: url,
        Entries: Messages.map((m, i) => ({ Id: String(i), ReceiptHandle: m.ReceiptHandle })),
      }),
    );
    ran += Messages.length;
  }
  return ran;
}
