import { CreateScheduleGroupCommand } from '@aws-sdk/client-scheduler';
import { VerifyDomainIdentityCommand, VerifyEmailIdentityCommand } from '@aws-sdk/client-ses';
import {
  CreateQueueCommand,
  GetQueueUrlCommand,
  QueueDoesNotExist,
  SetQueueAttributesCommand,
} from '@aws-sdk/client-sqs';
import { type AwsClients, isAwsError } from '../../shared/aws/index.ts';
import { describeFunction, describeMapping, str } from './describe.ts';
import { createSecret } from './provision-secrets.ts';
import { createTable } from './provision-tables.ts';
import type { LocalQueue, LocalResources } from './resources.ts';
import {
  asTemplate,
  type CfnResource,
  dependencyOrder,
  LOCAL_ACCOUNT_ID,
  type Physical,
  physicalName,
  type ResolveContext,
  resolveValue,
  TemplateError,
} from './template.ts';

export type {
  LocalEmailIdentity,
  LocalEventSourceMapping,
  LocalFunction,
  LocalQueue,
  LocalResources,
  LocalScheduleGroup,
  LocalTable,
} from './resources.ts';

export interface ProvisionOptions {
  clients: AwsClients;
  stackName: string;
  region: string;
  accountId?: string;
}

const PROVISIONED = new Set([
  'AWS::SQS::Queue',
  'AWS::DynamoDB::Table',
  'AWS::DynamoDB::GlobalTable',
  'AWS::Scheduler::ScheduleGroup',
  'AWS::SES::EmailIdentity',
  'AWS::SecretsManager::Secret',
]);
/** Read for their settings, never created: the functions run in-process. */
const DESCRIBED = new Set(['AWS::Lambda::Function', 'AWS::Lambda::EventSourceMapping']);

const DEFAULT_SQS_VISIBILITY_SECONDS = 30;
const QUEUE_ATTRIBUTES = [
  'DelaySeconds',
  'MaximumMessageSize',
  'MessageRetentionPeriod',
  'ReceiveMessageWaitTimeSeconds',
  'VisibilityTimeout',
  'RedrivePolicy',
  'RedriveAllowPolicy',
  'FifoQueue',
  'ContentBasedDeduplication',
  'DeduplicationScope',
  'FifoThroughputLimit',
  'SqsManagedSseEnabled',
] as const;

/**
 * Creates the template's queues, tables, schedule groups and SES identities in the emulator, in dependency order
 * (a DLQ before the queue that redrives to it), and describes the functions and mappings with
 * their references resolved. Running it again against the same emulator changes nothing.
 */
export async function provision(templateInput: unknown, options: ProvisionOptions): Promise<LocalResources> {
  const template = asTemplate(templateInput);
  const { clients, stackName, region } = options;
  const accountId = options.accountId ?? LOCAL_ACCOUNT_ID;
  const known = new Map<string, Physical>();
  const resource = (id: string): CfnResource => {
    const found = template.Resources[id];
    if (!found) throw new TemplateError(`no resource ${id} in the template`);
    return found;
  };
  const ctx: ResolveContext = {
    region,
    accountId,
    stackName,
    template,
    physical(id) {
      const have = known.get(id);
      if (have) return have;
      const { Type } = resource(id);
      if (PROVISIONED.has(Type)) throw new TemplateError(`${id} (${Type}) is referenced before it exists`);
      const computed = derivedPhysical(id, resource(id), ctx);
      known.set(id, computed);
      return computed;
    },
  };
  const props = (id: string) =>
    resolveValue(resource(id).Properties ?? {}, ctx, id) as Record<string, unknown>;

  const out: LocalResources = {
    stackName,
    region,
    accountId,
    queues: {},
    queuesByRoute: {},
    tables: {},
    scheduleGroups: {},
    emailIdentities: {},
    secrets: {},
    functions: {},
    eventSourceMappings: [],
    skipped: [],
  };

  for (const id of dependencyOrder(template, PROVISIONED)) {
    const { Type, Metadata } = resource(id);
    const p = props(id);
    if (Type === 'AWS::SQS::Queue') {
      const queue = await createQueue(clients, id, p, Metadata, { stackName, region, accountId });
      known.set(id, {
        ref: queue.url,
        attributes: { Arn: queue.arn, QueueName: queue.name, QueueUrl: queue.url },
      });
      out.queues[id] = queue;
    } else if (Type === 'AWS::Scheduler::ScheduleGroup') {
      const name = str(p.Name) ?? physicalName(stackName, id, Type);
      await clients.scheduler.send(new CreateScheduleGroupCommand({ Name: name })).catch((error: unknown) => {
        if (!isAwsError(error, 'ConflictException')) throw error;
      });
      const arn = `arn:aws:scheduler:${region}:${accountId}:schedule-group/${name}`;
      known.set(id, { ref: name, attributes: { Arn: arn } });
      out.scheduleGroups[id] = { logicalId: id, name, arn };
    } else if (Type === 'AWS::SES::EmailIdentity') {
      // On AWS the owner confirms by mail; the emulator takes the verification call at its word.
      const identity = String(p.EmailIdentity);
      if (identity.includes('@'))
        await clients.ses.send(new VerifyEmailIdentityCommand({ EmailAddress: identity }));
      else await clients.ses.send(new VerifyDomainIdentityCommand({ Domain: identity }));
      const arn = `arn:aws:ses:${region}:${accountId}:identity/${identity}`;
      known.set(id, { ref: identity, attributes: {} });
      out.emailIdentities[id] = { logicalId: id, identity, arn };
    } else if (Type === 'AWS::SecretsManager::Secret') {
      const secret = await createSecret(clients, id, p, stackName);
      known.set(id, { ref: secret.arn, attributes: { Id: secret.arn } });
      out.secrets[id] = secret;
    } else {
      const table = await createTable(clients, id, Type, p, stackName);
      const arn = `arn:aws:dynamodb:${region}:${accountId}:table/${table.name}`;
      known.set(id, {
        ref: table.name,
        attributes: { Arn: arn, ...(table.streamArn ? { StreamArn: table.streamArn } : {}) },
      });
      out.tables[id] = { logicalId: id, arn, ...table };
    }
  }
  linkQueues(out);

  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type === 'AWS::Lambda::Function') out.functions[id] = describeFunction(id, r, props(id), ctx);
    else if (!PROVISIONED.has(r.Type) && !DESCRIBED.has(r.Type))
      out.skipped.push({ logicalId: id, type: r.Type });
  }
  for (const [id, r] of Object.entries(template.Resources)) {
    if (r.Type === 'AWS::Lambda::EventSourceMapping')
      out.eventSourceMappings.push(describeMapping(id, props(id), out));
  }
  return out;
}

/** `Ref` and attributes of resources that are not created but are referred to (roles, functions ...). */
function derivedPhysical(id: string, r: CfnResource, ctx: ResolveContext): Physical {
  const p = (key: string) => str(resolveValue(r.Properties?.[key], ctx, `${id}.${key}`));
  const { region, accountId, stackName } = ctx;
  switch (r.Type) {
    case 'AWS::IAM::Role': {
      const name = p('RoleName') ?? physicalName(stackName, id, r.Type);
      const path = p('Path') ?? '/';
      return {
        ref: name,
        attributes: {
          Arn: `arn:aws:iam::${accountId}:role${path}${name}`,
          RoleId: `AROA${id.slice(0, 17).toUpperCase()}`,
        },
      };
    }
    case 'AWS::Lambda::Function': {
      const name = p('FunctionName') ?? physicalName(stackName, id, r.Type);
      return { ref: name, attributes: { Arn: `arn:aws:lambda:${region}:${accountId}:function:${name}` } };
    }
    default:
      return { ref: physicalName(stackName, id, r.Type), attributes: {} };
  }
}

async function createQueue(
  clients: AwsClients,
  id: string,
  p: Record<string, unknown>,
  metadata: Record<string, unknown> | undefined,
  where: { stackName: string; region: string; accountId: string },
): Promise<LocalQueue> {
  const fifo = p.FifoQueue === true || p.FifoQueue === 'true';
  const name = str(p.QueueName) ?? physicalName(where.stackName, id, 'AWS::SQS::Queue', fifo);
  const attributes: Record<string, string> = {};
  for (const key of QUEUE_ATTRIBUTES) {
    const value = p[key];
    if (value === undefined) continue;
    attributes[key] = typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
  let url: string | undefined;
  try {
    url = (await clients.sqs.send(new GetQueueUrlCommand({ QueueName: name }))).QueueUrl;
  } catch (error) {
    if (!(error instanceof QueueDoesNotExist)) throw error;
  }
  if (url) {
    // Attributes may have changed since the last run; FIFO-ness cannot, and SQS refuses to be told.
    const { FifoQueue: _fifo, ...mutable } = attributes;
    if (Object.keys(mutable).length > 0) {
      await clients.sqs.send(new SetQueueAttributesCommand({ QueueUrl: url, Attributes: mutable }));
    }
  } else {
    url = (await clients.sqs.send(new CreateQueueCommand({ QueueName: name, Attributes: attributes })))
      .QueueUrl;
  }
  if (!url) throw new Error(`SQS returned no URL for queue ${name}`);
  const route = str(metadata?.['celerity:route']);
  const dlqOf = str(metadata?.['celerity:dlqOf']);
  const redrive = p.RedrivePolicy as { maxReceiveCount?: unknown } | undefined;
  return {
    logicalId: id,
    name,
    url,
    arn: `arn:aws:sqs:${where.region}:${where.accountId}:${name}`,
    ...(route ? { route } : {}),
    ...(dlqOf ? { dlqOf } : {}),
    ...(redrive?.maxReceiveCount !== undefined ? { maxReceiveCount: Number(redrive.maxReceiveCount) } : {}),
    visibilityTimeoutSeconds: Number(p.VisibilityTimeout ?? DEFAULT_SQS_VISIBILITY_SECONDS),
    fifo,
    attributes,
  };
}

/** Fills each queue's `dlq` from its redrive policy, and the route index. */
function linkQueues(out: LocalResources): void {
  const byArn = new Map(Object.values(out.queues).map((q) => [q.arn, q]));
  for (const queue of Object.values(out.queues)) {
    if (queue.route) out.queuesByRoute[queue.route] = queue;
    const policy = queue.attributes.RedrivePolicy;
    if (!policy) continue;
    const target = byArn.get(String(JSON.parse(policy).deadLetterTargetArn));
    if (target)
      queue.dlq = { logicalId: target.logicalId, name: target.name, url: target.url, arn: target.arn };
  }
}
