import { randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import { synthTemplate } from '../../infra/synth.ts';
import { type LocalResources, provision } from '../../localstack/provision/provision.ts';
import { type AwsClients, createAwsClients } from '../../shared/aws/index.ts';
import { type CelerityConfig, resolveConfig } from '../../shared/config/index.ts';

let template: Record<string, unknown> | undefined;

/** The stack's own template (synthesized once per test process, without bundling). */
export function stackTemplate(): Record<string, unknown> {
  template ??= synthTemplate({ bundling: false, validate: false });
  return template;
}

export interface ProvisionedStack {
  resources: LocalResources;
  clients: AwsClients;
  /** The configuration a worker function of the stack would read from its environment. */
  config: CelerityConfig;
}

/** Creates the stack's queues and tables in the emulator, from the synthesized template. */
export async function provisionStack(): Promise<ProvisionedStack> {
  const clients = createAwsClients();
  const resources = await provision(stackTemplate(), {
    clients,
    stackName: 'Celerity',
    region: process.env.AWS_REGION ?? 'us-east-1',
  });
  const worker = Object.values(resources.functions).find((f) => f.entry === 'functions/worker.ts');
  if (!worker) throw new Error('the template has no worker function');
  return { resources, clients, config: resolveConfig({}, worker.environment) };
}

/** An SQS record as Lambda hands it over, for calling the worker runtime directly. */
export function sqsRecord(body: string, receiveCount = 1): SQSRecord {
  const now = String(Date.now());
  return {
    messageId: randomUUID(),
    receiptHandle: randomUUID(),
    body,
    attributes: {
      ApproximateReceiveCount: String(receiveCount),
      SentTimestamp: now,
      SenderId: 'test',
      ApproximateFirstReceiveTimestamp: now,
    },
    messageAttributes: {},
    md5OfBody: '',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:test',
    awsRegion: 'us-east-1',
  };
}

export function invocation(remainingMs = 60_000) {
  const end = Date.now() + remainingMs;
  return { requestId: randomUUID(), remainingTimeMs: () => end - Date.now() };
}
