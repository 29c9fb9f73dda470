/**
 * What provisioning made of the template, resolved to the names the emulator knows: the queues,
 * tables, schedule groups and identities created there, and the functions and mappings read for
 * their settings (the functions run in-process).
 */
import type { FilterCriteria } from '../event-sources/event-filter.ts';
import type { LocalSecret } from './provision-secrets.ts';

export interface LocalQueue {
  logicalId: string;
  name: string;
  url: string;
  arn: string;
  /** `celerity:route` metadata: the routing queue this is. */
  route?: string;
  /** `celerity:dlqOf` metadata: the route whose dead letters land here. */
  dlqOf?: string;
  /** The queue failed messages go to, from the redrive policy. */
  dlq?: { logicalId: string; name: string; url: string; arn: string };
  maxReceiveCount?: number;
  visibilityTimeoutSeconds: number;
  fifo: boolean;
  attributes: Record<string, string>;
}

export interface LocalTable {
  logicalId: string;
  name: string;
  arn: string;
  streamArn?: string;
  ttlAttribute?: string;
}

export interface LocalScheduleGroup {
  logicalId: string;
  name: string;
  arn: string;
}

/** An SES identity of the template, verified in the emulator (where no mail confirms it). */
export interface LocalEmailIdentity {
  logicalId: string;
  /** The address (or domain) mail is sent from. */
  identity: string;
  arn: string;
}

export interface LocalFunction {
  logicalId: string;
  name: string;
  arn: string;
  /** `celerity:entry` metadata, e.g. `functions/worker.ts`. */
  entry?: string;
  /** `celerity:handler` metadata (else the part of `Handler` after the dot). */
  handler?: string;
  timeoutSeconds: number;
  memoryMb: number;
  environment: Record<string, string>;
}

export interface LocalEventSourceMapping {
  logicalId: string;
  eventSourceArn: string;
  /** Set when the source is one of the template's queues. */
  queueLogicalId?: string;
  /** Set when the source is the stream of one of the template's tables. */
  tableLogicalId?: string;
  functionLogicalId: string;
  /** The template's, else Lambda's default for the source: 10 for a queue, 100 for a stream. */
  batchSize: number;
  maximumBatchingWindowSeconds: number;
  /** `ScalingConfig.MaximumConcurrency`, when set. */
  maximumConcurrency?: number;
  functionResponseTypes: string[];
  enabled: boolean;
  /** Stream mappings: `TRIM_HORIZON` or `LATEST`. */
  startingPosition?: string;
  filterCriteria?: FilterCriteria;
  bisectBatchOnFunctionError?: boolean;
  /** -1 (or absent): retried until the record expires. */
  maximumRetryAttempts?: number;
  /** -1 (or absent): no limit. */
  maximumRecordAgeSeconds?: number;
  /** `DestinationConfig.OnFailure`: its ARN, and the template's queue when it is one. */
  onFailure?: { destination: string; queueLogicalId?: string };
}

/** Everything the template made, resolved to the names the emulator knows. */
export interface LocalResources {
  stackName: string;
  region: string;
  accountId: string;
  queues: Record<string, LocalQueue>;
  /** The route queues (`celerity:route`) by route name. */
  queuesByRoute: Record<string, LocalQueue>;
  tables: Record<string, LocalTable>;
  scheduleGroups: Record<string, LocalScheduleGroup>;
  emailIdentities: Record<string, LocalEmailIdentity>;
  /** Secrets Manager secrets (the admin API's tokens), by logical id. */
  secrets: Record<string, LocalSecret>;
  functions: Record<string, LocalFunction>;
  eventSourceMappings: LocalEventSourceMapping[];
  /** Resources that exist only on AWS (IAM, Lambda code, KMS ...): not created locally. */
  skipped: { logicalId: string; type: string }[];
}
