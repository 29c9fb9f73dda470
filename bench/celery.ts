import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import type { SQSRecord } from 'aws-lambda';
import { type LocalCloud, startLocalCloud } from '../localstack/local-cloud.ts';
import { mapLimit } from '../shared/batches.ts';
import { encodeEnvelope } from '../shared/envelope/index.ts';
import type { Logger } from '../shared/log.ts';
import { defaultRegistry } from '../shared/task/registry.ts';
import { admitRecord } from '../shared/worker/admit.ts';

const TASK = 'apps.demo.tasks.noop';
const SILENT: Logger = { debug() {}, info() {}, warn() {}, error() {} };

export interface CeleryIntakeFigures {
  messages: number;
  /** Decoded and admitted (the worker's first step, no I/O) per second: Celery's format, Celerity's envelope. */
  admitCelery: number;
  admitCelerity: number;
  /** Sent raw with SendMessageBatch, drained to SUCCESS by the worker under the local poller. */
  endToEnd?: { tasks: number; celery: number; celerity: number };
}

/**
 * A Celery 5.2 `.delay()` of the no-op task, as kombu's SQS transport writes it: the captured
 * message of test/support/celery (a real kombu body) with its id and task swapped.
 */
function celeryBodyMaker(): (id: string) => string {
  const file = JSON.parse(
    readFileSync(join(import.meta.dirname, '../test/support/celery/kombu-bodies.json'), 'utf8'),
  ) as { cases: { case: string; body: string }[] };
  const delay = file.cases.find((c) => c.case === 'delay')?.body as string;
  const message = JSON.parse(Buffer.from(delay, 'base64').toString('utf8'));
  const payload = Buffer.from(
    JSON.stringify([[], {}, { callbacks: null, errbacks: null, chain: null, chord: null }]),
  ).toString('base64');
  return (id) =>
    Buffer.from(
      JSON.stringify({
        ...message,
        body: payload,
        headers: { ...message.headers, id, root_id: id, task: TASK, argsrepr: '()' },
        properties: { ...message.properties, correlation_id: id },
      }),
    ).toString('base64');
}

const celerityBody = (id: string) =>
  encodeEnvelope({ v: 1, id, task: TASK, queue: 'default', origin: 'bench@local' }).body;

function record(body: string, arn: string): SQSRecord {
  return { messageId: randomUUID(), body, eventSourceARN: arn, attributes: {} } as unknown as SQSRecord;
}

/** Messages per second through `admitRecord` (decode, validate, route, look up the task). */
function admitRate(
  bodies: string[],
  arn: string,
  queues: Record<string, { url: string; arn: string }>,
): number {
  const records = bodies.map((body) => record(body, arn));
  const context = {
    registry: defaultRegistry,
    config: { queues, resultExpires: 86_400 },
    now: Date.now(),
    log: SILENT,
  };
  const t0 = performance.now();
  for (const r of records) {
    const admitted = admitRecord(r, context);
    if (admitted.kind !== 'admitted')
      throw new Error(`bench message not admitted: ${JSON.stringify(admitted)}`);
  }
  return records.length / ((performance.now() - t0) / 1000);
}

/** Sends the bodies to the default queue as SendMessageBatch calls and waits until the worker has finished them. */
async function drain(cloud: LocalCloud, bodies: string[], progress: { done: number; wake?: () => void }) {
  const url = cloud.config.queues.default?.url as string;
  const target = progress.done + bodies.length;
  const t0 = performance.now();
  const chunks = Array.from({ length: Math.ceil(bodies.length / 10) }, (_, i) =>
    bodies.slice(i * 10, i * 10 + 10),
  );
  await mapLimit(chunks, 8, (chunk) =>
    cloud.clients.sqs.send(
      new SendMessageBatchCommand({
        QueueUrl: url,
        Entries: chunk.map((MessageBody, i) => ({ Id: String(i), MessageBody })),
      }),
    ),
  );
  while (progress.done < target) await new Promise<void>((resolve) => (progress.wake = resolve));
  return bodies.length / ((performance.now() - t0) / 1000);
}

/**
 * Celery messages through the intake beside Celerity's own envelope: the worker's decode and
 * admission alone (in process), and, unless `endToEnd` is 0, end to end through the local cloud.
 */
export async function measureCeleryIntake(messages: number, endToEnd: number): Promise<CeleryIntakeFigures> {
  const celeryBody = celeryBodyMaker();
  const arn = 'arn:aws:sqs:us-east-1:000000000000:bench-default';
  const queues = { default: { url: 'http://127.0.0.1/000000000000/bench-default', arn } };
  const ids = Array.from({ length: messages }, () => randomUUID());
  // Warm both paths (schemas compiled, code optimised) before timing either.
  admitRate(ids.slice(0, 500).map(celeryBody), arn, queues);
  admitRate(ids.slice(0, 500).map(celerityBody), arn, queues);
  const figures: CeleryIntakeFigures = {
    messages,
    admitCelery: admitRate(ids.map(celeryBody), arn, queues),
    admitCelerity: admitRate(ids.map(celerityBody), arn, queues),
  };
  if (endToEnd <= 0) return figures;

  const progress: { done: number; wake?: () => void } = { done: 0 };
  const cloud = await startLocalCloud({
    logLevel: 'silent',
    streams: false,
    clock: false,
    overrides: { waitTimeSeconds: 1 },
    onBatch: (_worker, report) => {
      progress.done += report.messageIds.length - report.failed.length;
      progress.wake?.();
    },
  });
  try {
    await drain(
      cloud,
      Array.from({ length: 20 }, () => celerityBody(randomUUID())),
      progress,
    );
    const celery = await drain(
      cloud,
      Array.from({ length: endToEnd }, () => celeryBody(randomUUID())),
      progress,
    );
    const celerity = await drain(
      cloud,
      Array.from({ length: endToEnd }, () => celerityBody(randomUUID())),
      progress,
    );
    figures.endToEnd = { tasks: endToEnd, celery, celerity };
  } finally {
    await cloud.stop();
  }
  return figures;
}
