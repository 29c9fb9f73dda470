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
  /** The settings these clients were made with: `controlClientsOf` makes the admin API's with them. */
  readonly settings: ReturnType<typeof clientSettings>;
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

/**
 * The clients, each built on first use and then kept: a worker container whose tasks never send
 * e-mail never builds the SES client, and one with no far ETA or solar schedule never builds the
 * Scheduler's. Building a client (its configuration and credential chain) is a good part of a
 * cold start, so none is built before it is needed.
 */
export function createAwsClients(options: AwsClientOptions = {}): AwsClients {
  const requests = new RequestCounter();
  const common = clientSettings(options);
  let sqs: SQSClient | undefined;
  let dynamo: DynamoDBDocumentClient | undefined;
  let scheduler: SchedulerClient | undefined;
  let ses: SESClient | undefined;
  return {
    requests,
    settings: common,
    get sqs() {
      sqs ??= requests.attach(new SQSClient(common));
      return sqs;
    },
    get dynamo() {
      dynamo ??= DynamoDBDocumentClient.from(requests.attach(new DynamoDBClient(common)), {
        marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
      });
      return dynamo;
    },
    get scheduler() {
      scheduler ??= requests.attach(new SchedulerClient(common));
      return scheduler;
    },
    get ses() {
      ses ??= requests.attach(new SESClient(common));
      return ses;
    },
  };
}

let shared: AwsClients | undefined;

/** Clients made once per container (per process locally) and reused by every invocation. */
export function getAwsClients(): AwsClients {
  shared ??= createAwsClients();
  return shared;
}

/**
 * The clients `getAwsClients()` answers until reset: the local runner hands the functions it loads
 * its own (counted and fenced), as a container's.
 */
export function useAwsClients(clients: AwsClients): void {
  shared = clients;
}

/** For tests and the local runner, which point the same process at a fresh emulator. */
export function resetAwsClients(): void {
  shared = undefined;
}
