import { existsSync, rmSync } from 'node:fs';
import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import { ChangeMessageVisibilityBatchCommand, GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ScanCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { type AwsClients, createAwsClients } from '../../shared/aws/clients.ts';
import { chunkBySize, mapLimit } from '../../shared/batches.ts';
import { ConfigEnv } from '../../shared/config/env.ts';
import { createLogger } from '../../shared/log.ts';
import { adoptEmulator, type Emulator, motoAnswers } from '../emulator/emulator.ts';
import { type HeldMessage, readJournal } from '../event-sources/inflight-journal.ts';
import {
  inflightJournalOf,
  isAlive,
  type LocalState,
  readState,
  STATE_FILE_ENV,
  survivingEmulator,
} from './state-file.ts';

/**
 * What `npm run dev` does with what an earlier run left: a live run beside it is refused; the
 * emulator of a run that died (SIGKILL, a closed terminal) is taken over with its data, and what
 * that run held in flight is made visible at once; `--fresh` stops that emulator instead, and the
 * new run starts empty. Each case is said on the terminal, with the figures it found.
 */
export interface Takeover {
  /** The earlier run's emulator, to run on (and to stop with this run). */
  emulator?: Emulator;
}

const log = createLogger({ component: 'dev' }, { level: process.env.LOG_LEVEL ?? 'warn' });

export async function takeOverEarlierRun(stateFile: string, fresh: boolean): Promise<Takeover> {
  const journal = inflightJournalOf(stateFile);
  const earlier = existsSync(stateFile) ? readEarlier(stateFile) : undefined;
  if (!earlier) {
    if (fresh) console.log('celerity dev: --fresh: no earlier local cloud found, nothing to discard.');
    rmSync(journal, { force: true });
    return {};
  }
  const answers = await motoAnswers(earlier.endpoint);
  if (answers && earlier.pid !== undefined && earlier.pid !== process.pid && isAlive(earlier.pid)) {
    console.error(
      `celerity dev: a local cloud is already running (pid ${earlier.pid}, ${earlier.endpoint}, state ${stateFile}).\n` +
        `  Stop it first (Ctrl-C in its terminal, or kill ${earlier.pid}), or run this one with another ${STATE_FILE_ENV}.`,
    );
    process.exit(1);
  }
  const given = process.env.AWS_ENDPOINT_URL?.replace(/\/$/, '');
  if (given) {
    // An emulator this command never starts or stops (LocalStack, a moto of one's own): its data
    // stays whatever happens, so what the dead run held is returned to its queues all the same.
    if (given === earlier.endpoint && answers) {
      if (fresh) console.log(`celerity dev: --fresh: ${given} (AWS_ENDPOINT_URL) is not ours to discard.`);
      await carryOn(earlier, journal, `the emulator at ${given} (AWS_ENDPOINT_URL)`);
    }
    rmSync(journal, { force: true });
    return {};
  }
  const survivor = await survivingEmulator(earlier);
  if (!survivor) {
    if (answers) {
      console.log(
        `celerity dev: ${earlier.endpoint} from an earlier run still answers, but its process is unknown: starting a new emulator (the earlier one is left as it is).`,
      );
    } else if (fresh) console.log('celerity dev: --fresh: the earlier emulator is gone, nothing to discard.');
    rmSync(journal, { force: true });
    return {};
  }
  const emulator = adoptEmulator(survivor.endpoint, survivor.pid);
  const what = `the emulator of an earlier run (pid ${survivor.pid}, ${survivor.endpoint})`;
  if (fresh) {
    const held = readJournal(journal).length;
    const found = await inventory(clientsFor(earlier), earlier);
    await emulator.stop();
    rmSync(journal, { force: true });
    console.log(
      `celerity dev: --fresh: stopped ${what} and discarded ${describe(found, held, 'in flight')}; starting empty.`,
    );
    return {};
  }
  await carryOn(earlier, journal, what);
  return { emulator };
}

function readEarlier(stateFile: string): LocalState | undefined {
  try {
    return readState(stateFile);
  } catch {
    return undefined;
  }
}

function clientsFor(state: LocalState): AwsClients {
  // The emulator takes any key; the SDK only needs some to sign with.
  process.env.AWS_ACCESS_KEY_ID ??= 'local';
  process.env.AWS_SECRET_ACCESS_KEY ??= 'local';
  return createAwsClients({ endpoint: state.endpoint, region: state.region });
}

/** Returns what the dead run held, then says what this run carries on with. */
async function carryOn(earlier: LocalState, journal: string, what: string): Promise<void> {
  const clients = clientsFor(earlier);
  const held = readJournal(journal);
  const expired = await expireLeases(clients, earlier, held, Date.now());
  const returned = await makeVisible(clients, held);
  const found = await inventory(clients, earlier);
  console.log(
    `celerity dev: ${what} outlived it; carrying on with ${describe(found, returned, 'in flight, returned at once')}.` +
      (expired > 0 ? `\n  ${expired} of those tasks were mid-run: their claims died with that run.` : '') +
      '\n  To start empty instead: stop this run (Ctrl-C), then npm run dev -- --fresh.',
  );
}

/**
 * A task the dead run was running holds a STARTED (or PENDING) row whose lease lasts to the end
 * of that run's invocation, up to the function's timeout. A delivery meanwhile is refused as
 * "another run holds it" and waits out the queue's visibility timeout, six times longer. The run
 * is dead (its process is gone; a live one would have been refused above) and this run's pollers
 * have not started, so no live run can hold these leases: they are ended now.
 */
async function expireLeases(
  clients: AwsClients,
  earlier: LocalState,
  held: readonly HeldMessage[],
  now: number,
): Promise<number> {
  const table = earlier.environment[ConfigEnv.resultsTable];
  const taskIds = [...new Set(held.flatMap((h) => (h.taskId ? [h.taskId] : [])))];
  if (!table || taskIds.length === 0) return 0;
  const ended = await mapLimit(taskIds, 8, async (taskId) => {
    try {
      await clients.dynamo.send(
        new UpdateCommand({
          TableName: table,
          Key: { taskId },
          UpdateExpression: 'SET leaseUntil = :ended',
          ConditionExpression: 'leaseUntil > :ended',
          ExpressionAttributeValues: { ':ended': now - 1 },
        }),
      );
      return true;
    } catch (error) {
      // No row (never claimed), finished, or its lease already over: nothing to end.
      if (!(error instanceof ConditionalCheckFailedException)) {
        log.debug('could not end a lease', { taskId, error: (error as Error).message });
      }
      return false;
    }
  });
  return ended.filter(Boolean).length;
}

/** ChangeMessageVisibility 0 for each remembered handle; a stale one (the message moved on) is skipped. */
async function makeVisible(clients: AwsClients, held: readonly HeldMessage[]): Promise<number> {
  const byQueue = new Map<string, HeldMessage[]>();
  for (const h of held) byQueue.set(h.queueUrl, [...(byQueue.get(h.queueUrl) ?? []), h]);
  let returned = 0;
  for (const [queueUrl, messages] of byQueue) {
    for (const chunk of chunkBySize(messages, () => 1, 10, Number.POSITIVE_INFINITY)) {
      try {
        const response = await clients.sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: chunk.map((m, index) => ({
              Id: String(index),
              ReceiptHandle: m.receiptHandle,
              VisibilityTimeout: 0,
            })),
          }),
        );
        returned += response.Successful?.length ?? 0;
        for (const failed of response.Failed ?? []) {
          // Deleted by the dead run after it wrote the handle, or received again since: expected.
          log.debug('stale receipt handle', { queueUrl, code: failed.Code, message: failed.Message });
        }
      } catch (error) {
        log.debug('could not return held messages', { queueUrl, error: (error as Error).message });
      }
    }
  }
  return returned;
}

interface Inventory {
  queues: { route: string; visible: number; delayed: number; inFlight: number }[];
  periodicTasks: number | undefined;
}

/** The figures the terminal shows: each route queue's messages, and the periodic tasks. */
async function inventory(clients: AwsClients, earlier: LocalState): Promise<Inventory> {
  const queues = await Promise.all(
    Object.entries(earlier.queues ?? {}).map(async ([route, { url }]) => {
      const { Attributes = {} } = await clients.sqs
        .send(
          new GetQueueAttributesCommand({
            QueueUrl: url,
            AttributeNames: [
              'ApproximateNumberOfMessages',
              'ApproximateNumberOfMessagesDelayed',
              'ApproximateNumberOfMessagesNotVisible',
            ],
          }),
        )
        .catch(() => ({ Attributes: undefined }));
      return {
        route,
        visible: Number(Attributes.ApproximateNumberOfMessages ?? 0),
        delayed: Number(Attributes.ApproximateNumberOfMessagesDelayed ?? 0),
        inFlight: Number(Attributes.ApproximateNumberOfMessagesNotVisible ?? 0),
      };
    }),
  );
  const table = earlier.environment[ConfigEnv.periodicTasksTable];
  let periodicTasks: number | undefined;
  if (table) {
    // A startup figure from a table of a few dozen rows, not a request path.
    periodicTasks = 0;
    let ExclusiveStartKey: Record<string, unknown> | undefined;
    try {
      do {
        const page = await clients.dynamo.send(
          new ScanCommand({ TableName: table, Select: 'COUNT', ExclusiveStartKey }),
        );
        periodicTasks += page.Count ?? 0;
        ExclusiveStartKey = page.LastEvaluatedKey;
      } while (ExclusiveStartKey);
    } catch {
      periodicTasks = undefined;
    }
  }
  return { queues, periodicTasks };
}

/**
 * `1000 queued tasks (default 1000; 3 delayed), 100 in flight, returned at once, 4 periodic tasks
 * and its results`. Messages still invisible are ones a run returned to the queue's own timing.
 */
function describe(found: Inventory, held: number, heldWord: string): string {
  const sum = (count: (q: Inventory['queues'][number]) => number) =>
    found.queues.reduce((total, q) => total + count(q), 0);
  const queued = sum((q) => q.visible + q.delayed);
  const perQueue = found.queues
    .filter((q) => q.visible + q.delayed > 0)
    .map((q) => `${q.route} ${q.visible + q.delayed}`);
  const delayed = sum((q) => q.delayed);
  const invisible = sum((q) => q.inFlight);
  const detail = [perQueue.join(', '), delayed > 0 ? `${delayed} delayed` : ''].filter(Boolean).join('; ');
  const parts = [
    `${queued} queued task${queued === 1 ? '' : 's'}${detail ? ` (${detail})` : ''}`,
    `${held} ${heldWord}`,
    ...(invisible > 0 ? [`${invisible} waiting out a visibility timeout`] : []),
    found.periodicTasks === undefined
      ? 'its periodic tasks'
      : `${found.periodicTasks} periodic task${found.periodicTasks === 1 ? '' : 's'}`,
    'and its results',
  ];
  return parts.join(', ');
}
