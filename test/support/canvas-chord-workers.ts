import {
  ChangeMessageVisibilityBatchCommand,
  DeleteMessageBatchCommand,
  type Message,
  ReceiveMessageCommand,
  SendMessageBatchCommand,
} from '@aws-sdk/client-sqs';
import { seeded } from '../../localstack/dev/chaos.ts';
import { createWorkerRuntime } from '../../shared/app.ts';
import type { AwsClients } from '../../shared/aws/index.ts';
import type { CelerityConfig } from '../../shared/config/index.ts';
import type { Logger } from '../../shared/log.ts';
import type { TaskRegistry } from '../../shared/task/registry.ts';
import { invocation, sqsRecord } from './stack.ts';

export interface WorkersOptions {
  config: CelerityConfig;
  clients: AwsClients;
  registry: TaskRegistry;
  /** Worker runtimes draining the queue at once, each its own Lambda container. @defaultValue 4 */
  runtimes?: number;
  /** Share of received messages sent once more before they are run (a duplicated delivery). @defaultValue 0 */
  duplicateRate?: number;
  seed?: number;
  queue?: string;
  logger?: Logger;
}

export interface Workers {
  /** Messages sent a second time. */
  duplicated: number;
  /** Batches the runtimes ran, and messages they gave back. */
  batches: number;
  /** The most batches that were running at one moment (several: members finished concurrently). */
  mostAtOnce: number;
  givenBack: number;
  /** Drains until `done()` holds and the queue has been empty twice in a row. */
  drainUntil(done: () => Promise<boolean>, deadlineMs?: number): Promise<void>;
}

const quiet: Logger = { debug() {}, info() {}, warn() {}, error() {} };

/**
 * Several worker runtimes draining one queue of the emulator at once, as the event source mapping
 * would drive several containers: a message a batch gives back is made visible again at once, and
 * a chosen share of messages is sent twice, so some duplicates run beside their original and
 * some after it finished.
 */
export function chordWorkers(options: WorkersOptions): Workers {
  const queue = options.queue ?? 'default';
  const url = options.config.queues[queue]?.url as string;
  const random = seeded(options.seed ?? 7);
  const sqs = options.clients.sqs;
  const duplicates = new Set<string>();
  let running = 0;
  const state: Workers = {
    duplicated: 0,
    batches: 0,
    mostAtOnce: 0,
    givenBack: 0,
    async drainUntil(done, deadlineMs = 240_000) {
      const end = Date.now() + deadlineMs;
      let finished = false;
      const lane = async (): Promise<void> => {
        const runtime = createWorkerRuntime({
          config: options.config,
          clients: options.clients,
          registry: options.registry,
          logger: options.logger ?? quiet,
        });
        let empty = 0;
        while (!finished) {
          if (Date.now() > end) throw new Error('the workers ran out of time');
          const { Messages = [] } = await sqs.send(
            new ReceiveMessageCommand({
              QueueUrl: url,
              MaxNumberOfMessages: 10,
              WaitTimeSeconds: 1,
              VisibilityTimeout: 30,
              MessageSystemAttributeNames: ['ApproximateReceiveCount'],
            }),
          );
          if (Messages.length === 0) {
            if (++empty >= 2 && (await done())) finished = true;
            continue;
          }
          empty = 0;
          await duplicate(Messages);
          const records = Messages.map((m) =>
            sqsRecord(m.Body as string, Number(m.Attributes?.ApproximateReceiveCount ?? 1)),
          );
          running++;
          state.mostAtOnce = Math.max(state.mostAtOnce, running);
          const { batchItemFailures } = await runtime.processBatch(records, invocation()).finally(() => {
            running--;
          });
          state.batches++;
          const back = new Set(batchItemFailures.map((f) => f.itemIdentifier));
          state.givenBack += back.size;
          const settled = Messages.map((m, i) => ({ m, back: back.has(records[i]?.messageId as string), i }));
          const toDelete = settled.filter((s) => !s.back);
          const toReturn = settled.filter((s) => s.back);
          if (toDelete.length > 0)
            await sqs.send(
              new DeleteMessageBatchCommand({
                QueueUrl: url,
                Entries: toDelete.map((s) => ({ Id: String(s.i), ReceiptHandle: s.m.ReceiptHandle })),
              }),
            );
          if (toReturn.length > 0)
            await sqs.send(
              new ChangeMessageVisibilityBatchCommand({
                QueueUrl: url,
                Entries: toReturn.map((s) => ({
                  Id: String(s.i),
                  ReceiptHandle: s.m.ReceiptHandle,
                  VisibilityTimeout: 1,
                })),
              }),
            );
        }
      };
      await Promise.all(Array.from({ length: options.runtimes ?? 4 }, lane));
    },
  };
  /** Sends a share of first deliveries once more, with a delay of 0–2 s (beside the original, or after it). */
  async function duplicate(messages: readonly Message[]): Promise<void> {
    const again = messages.filter(
      (m) => !duplicates.has(m.MessageId as string) && random() < (options.duplicateRate ?? 0),
    );
    if (again.length === 0) return;
    for (const m of again) duplicates.add(m.MessageId as string);
    state.duplicated += again.length;
    const sent = await sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: again.map((m, i) => ({
          Id: String(i),
          MessageBody: m.Body as string,
          DelaySeconds: Math.floor(random() * 3),
        })),
      }),
    );
    // A duplicate is not duplicated again.
    for (const ok of sent.Successful ?? []) duplicates.add(ok.MessageId as string);
  }
  return state;
}
