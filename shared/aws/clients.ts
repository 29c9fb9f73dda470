import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SESClient } from '@aws-sdk/client-ses';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { RequestCounter } from './request-counter.ts';

export interface AwsClients {
  readonly sqs: SQSClient;
  readonly dynamo: DynamoDBDocumentClient;
  readonly scheduler: SchedulerClient;
  readonly ses: SESClient;
  /** Counts every request these clients send, by operation (the benchmark reads it). */
  readonly requests: RequestCounter;
}

export interface AwsClientOptions {
  /** @defaultValue `AWS_ENDPOINT_URL`, else the service's public endpoint */
  endpoint?: string;
  /** @defaultValue `AWS_REGION`, else `AWS_DEFAULT_REGION`, else `us-east-1` */
  region?: string;
}

/** The one place that reads where AWS is: every client in Celerity comes from here. */
export function resolveAwsLocation(options: AwsClientOptions = {}): { endpoint?: string; region: string } {
  const endpoint = options.endpoint ?? (process.env.AWS_ENDPOINT_URL || undefined);
  const region = options.region ?? (process.env.AWS_REGION || process.env.AWS_DEFAULT_REGION || 'us-east-1');
  return endpoint ? { endpoint, region } : { region };
}

/**
 * The settings every SDK client gets. A client that is not part of `AwsClients` (the local
 * runner's DynamoDB Streams client, kept out of the worker bundle) is made with these too.
 */
export function clientSettings(options: AwsClientOptions = {}) {
  // A request that never answers must not hang a worker: a minute is far past any call here,
  // including a 20 s long poll. Five attempts ride out an emulator (or a region) under load.
  return { ...resolveAwsLocation(options), maxAttempts: 5, requestHandler: { requestTimeout: 60_000 } };
}

export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const requests = new RequestCounter();
  const common = clientSettings(options);
  const sqs = requests.attach(new SQSClient(common));
  const dynamoClient = requests.attach(new DynamoDBClient(common));
  const dynamo = DynamoDBDocumentClient.from(dynamoClient, {
    marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
  });
  const scheduler = requests.attach(new SchedulerClient(common));
  const ses = requests.attach(new SESClient(common));
  return { sqs, dynamo, scheduler, ses, requests };
}

let shared: AwsClients | undefined;

/** Clients made once per container (per process locally) and reused by every invocation. */
export function getAwsClients(): AwsClients {
  shared ??= createAwsClients();
  return shared;
}

/** For tests and the local runner, which point the same process at a fresh emulator. */
export function resetAwsClients(): void {
  shared = undefined;
}
