import {
  CreateTableCommand,
  type CreateTableCommandInput,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  UpdateTimeToLiveCommand,
} from '@aws-sdk/client-dynamodb';
import { type AwsClients, isAwsError } from '../../shared/aws/index.ts';
import { physicalName } from './template.ts';

/**
 * Creates a table from its resolved CloudFormation properties unless it exists, then turns on its
 * TTL (a separate call, as on AWS). Tags, encryption and point-in-time recovery mean nothing locally.
 */
export async function createTable(
  clients: AwsClients,
  id: string,
  type: string,
  p: Record<string, unknown>,
  stackName: string,
): Promise<{ name: string; streamArn?: string; ttlAttribute?: string }> {
  const name =
    (p.TableName === undefined ? undefined : String(p.TableName)) ??
    physicalName(stackName, id, 'AWS::DynamoDB::Table');
  const stream = p.StreamSpecification as { StreamViewType?: string } | undefined;
  const ttl = p.TimeToLiveSpecification as { AttributeName?: string; Enabled?: unknown } | undefined;
  const existing = await clients.dynamo
    .send(new DescribeTableCommand({ TableName: name }))
    .catch((error: unknown) => {
      if (isAwsError(error, 'ResourceNotFoundException')) return undefined;
      throw error;
    });
  let streamArn = existing?.Table?.LatestStreamArn;
  if (!existing) {
    const payPerRequest =
      p.BillingMode === 'PAY_PER_REQUEST' || (type === 'AWS::DynamoDB::GlobalTable' && !p.BillingMode);
    const input: CreateTableCommandInput = {
      TableName: name,
      KeySchema: p.KeySchema as CreateTableCommandInput['KeySchema'],
      AttributeDefinitions: p.AttributeDefinitions as CreateTableCommandInput['AttributeDefinitions'],
      BillingMode: payPerRequest ? 'PAY_PER_REQUEST' : 'PROVISIONED',
      ...(payPerRequest
        ? {}
        : {
            ProvisionedThroughput:
              (p.ProvisionedThroughput as CreateTableCommandInput['ProvisionedThroughput']) ?? {
                ReadCapacityUnits: 5,
                WriteCapacityUnits: 5,
              },
          }),
      ...(Array.isArray(p.GlobalSecondaryIndexes)
        ? {
            GlobalSecondaryIndexes: p.GlobalSecondaryIndexes.map((index) => indexInput(index, payPerRequest)),
          }
        : {}),
      ...(Array.isArray(p.LocalSecondaryIndexes)
        ? { LocalSecondaryIndexes: p.LocalSecondaryIndexes.map((index) => indexInput(index, true)) }
        : {}),
      ...(stream?.StreamViewType
        ? {
            StreamSpecification: {
              StreamEnabled: true,
              StreamViewType: stream.StreamViewType as 'NEW_AND_OLD_IMAGES',
            },
          }
        : {}),
    };
    const created = await clients.dynamo.send(new CreateTableCommand(input));
    streamArn = created.TableDescription?.LatestStreamArn;
  }
  const ttlEnabled = ttl?.AttributeName && (ttl.Enabled === true || ttl.Enabled === 'true');
  if (ttlEnabled) {
    const current = await clients.dynamo.send(new DescribeTimeToLiveCommand({ TableName: name }));
    const status = current.TimeToLiveDescription?.TimeToLiveStatus;
    if (status !== 'ENABLED' && status !== 'ENABLING') {
      await clients.dynamo.send(
        new UpdateTimeToLiveCommand({
          TableName: name,
          TimeToLiveSpecification: { AttributeName: ttl.AttributeName, Enabled: true },
        }),
      );
    }
  }
  return {
    name,
    ...(streamArn ? { streamArn } : {}),
    ...(ttlEnabled ? { ttlAttribute: ttl.AttributeName } : {}),
  };
}

/** A CloudFormation index definition as CreateTable takes it (throughput only when provisioned). */
function indexInput(index: unknown, payPerRequest: boolean) {
  const { IndexName, KeySchema, Projection, ProvisionedThroughput } = index as Record<string, never>;
  return {
    IndexName,
    KeySchema,
    Projection,
    ...(payPerRequest
      ? {}
      : { ProvisionedThroughput: ProvisionedThroughput ?? { ReadCapacityUnits: 5, WriteCapacityUnits: 5 } }),
  };
}
