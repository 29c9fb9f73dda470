import { PurgeQueueInProgress } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../shared/config/index.ts';
import { purgeQueue } from '../../shared/ops/dlq.ts';
import { OperationFailed } from '../../shared/ops/errors.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';

describe('purgeQueue', () => {
  it('says a second purge within the minute is refused by SQS (409), not a server fault', async () => {
    const sqs = {
      async send(command: { constructor: { name: string } }) {
        if (command.constructor.name === 'PurgeQueueCommand') {
          throw new PurgeQueueInProgress({
            message: 'Only one PurgeQueue operation is allowed every 60 seconds.',
            $metadata: {},
          });
        }
        return { Attributes: {} };
      },
    };
    const config = resolveConfig(
      { queues: { default: { url: 'http://q/default', arn: 'arn:aws:sqs:us-east-1:1:default' } } },
      {},
    );
    const ctx = {
      config,
      clients: { sqs, dynamo: {}, scheduler: {} } as never,
      registry: new TaskRegistry(),
    };
    await expect(purgeQueue(ctx, 'default')).rejects.toBeInstanceOf(OperationFailed);
    await expect(purgeQueue(ctx, 'default')).rejects.toThrow('less than a minute ago');
  });
});
