import { CreateQueueCommand, SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it } from 'vitest';
import { SqsPoller, type SqsPollerOptions } from '../../localstack/event-sources/sqs-poller.ts';
import { createAwsClients } from '../../shared/aws/index.ts';
import { useEmulator } from '../support/emulator.ts';
import { until } from '../support/until.ts';

/**
 * Lambda reads a queue with five pollers at once, each with batches of its own. The local poller
 * does the same, within the mapping's maximum concurrency (a batch being gathered takes a place).
 */
const REGION = 'us-east-1';
const { endpoint } = useEmulator();
const pollers: SqsPoller[] = [];
afterEach(async () => {
  await Promise.all(pollers.splice(0).map((p) => p.stop()));
});

/** Clients whose ReceiveMessage calls are watched: how many are open at once, at most. */
function watchedClients() {
  const clients = createAwsClients({ endpoint, region: REGION });
  const receives = { open: 0, peak: 0 };
  clients.sqs.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName !== 'ReceiveMessageCommand') return next(args);
      receives.open++;
      receives.peak = Math.max(receives.peak, receives.open);
      try {
        return await next(args);
      } finally {
        receives.open--;
      }
    },
    { step: 'initialize', name: 'watchReceives' },
  );
  return { sqs: clients.sqs, receives };
}

let counter = 0;
async function makeQueue(sqs: ReturnType<typeof watchedClients>['sqs']) {
  const name = `pollers-${process.pid}-${++counter}`;
  const url = (
    await sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: { VisibilityTimeout: '30' } }))
  ).QueueUrl as string;
  return { url, arn: `arn:aws:sqs:${REGION}:123456789012:${name}` };
}

function start(options: Omit<SqsPollerOptions, 'region' | 'functionName' | 'timeoutSeconds'>): SqsPoller {
  const p = new SqsPoller({
    region: REGION,
    functionName: 'w',
    timeoutSeconds: 10,
    waitTimeSeconds: 1,
    ...options,
  });
  pollers.push(p.start());
  return p;
}

describe('SqsPoller receives as Lambda does', () => {
  // Five pollers, as Lambda starts with; never more than the mapping may invoke at once.
  it.each([
    [10, 5],
    [2, 2],
  ])(
    'with maxConcurrency %i, long-polls an idle queue with %i receives at once',
    async (maxConcurrency, expected) => {
      const { sqs, receives } = watchedClients();
      const queue = await makeQueue(sqs);
      start({
        sqs,
        queueUrl: queue.url,
        queueArn: queue.arn,
        handler: async () => undefined,
        maxConcurrency,
      });
      await until(
        'the receives open together',
        async () => (receives.peak >= expected ? true : undefined),
        10_000,
      );
      // Long enough for any further poller to have opened its receive too.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      expect(receives.peak).toBe(expected);
    },
  );

  it('gives each message to one batch, and keeps receives plus invocations within maxConcurrency', async () => {
    const { sqs, receives } = watchedClients();
    const queue = await makeQueue(sqs);
    for (let start = 0; start < 200; start += 10) {
      await sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queue.url,
          Entries: Array.from({ length: 10 }, (_, i) => ({ Id: String(i), MessageBody: String(start + i) })),
        }),
      );
    }
    const seen: string[] = [];
    let running = 0;
    let peakTaken = 0;
    const p = start({
      sqs,
      queueUrl: queue.url,
      queueArn: queue.arn,
      maxConcurrency: 4,
      batchSize: 10,
      handler: async (event) => {
        running++;
        // Places taken: invocations running plus receives open.
        peakTaken = Math.max(peakTaken, running + receives.open);
        seen.push(...event.Records.map((r) => r.body));
        await new Promise((resolve) => setTimeout(resolve, 50));
        running--;
      },
    });
    await until('every message handled', async () => (p.stats.deleted >= 200 ? true : undefined));
    expect(seen).toHaveLength(200);
    expect(new Set(seen).size).toBe(200);
    expect(peakTaken).toBeLessThanOrEqual(4);
    expect(p.stats.peakConcurrency).toBeGreaterThan(1);
  });
});
