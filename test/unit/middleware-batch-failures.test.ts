import middy from '@middy/core';
import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import type { Logger } from '../../shared/log.ts';
import { type ReturnRecordsOnErrorOptions, returnRecordsOnError } from '../../shared/middleware/index.ts';

const records = ['m-1', 'm-2'].map((messageId) => ({ messageId, body: '{}' }) as SQSRecord);

describe('returnRecordsOnError', () => {
  it('answers every record as a batch item failure, logs why, and lets the earlier onError hooks run', async () => {
    const logged: { message: string; fields?: Record<string, unknown> }[] = [];
    const quiet = () => {};
    const logger: Logger = {
      debug: quiet,
      info: quiet,
      warn: quiet,
      error: (message, fields) => void logged.push({ message, fields }),
    };
    const earlier: string[] = [];
    const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
      .use({ onError: () => void earlier.push('ran') })
      .use(returnRecordsOnError({ logger }))
      .handler(async () => {
        throw new RangeError('nobody saw this coming');
      });
    const response = await handler({ Records: records }, {} as Context);
    expect(response).toEqual({ batchItemFailures: [{ itemIdentifier: 'm-1' }, { itemIdentifier: 'm-2' }] });
    expect(earlier).toEqual(['ran']);
    expect(logged).toEqual([
      {
        message: 'worker invocation failed; every record of the batch will be delivered again',
        fields: {
          records: ['m-1', 'm-2'],
          cause: expect.stringContaining('RangeError: nobody saw this coming'),
        },
      },
    ]);
  });

  it('leaves a handler that returns alone', async () => {
    const handler = middy<SQSEvent, SQSBatchResponse, Error, Context>()
      .use(returnRecordsOnError({ logger: {} as Logger }))
      .handler(async () => ({ batchItemFailures: [{ itemIdentifier: 'm-2' }] }));
    expect(await handler({ Records: records }, {} as Context)).toEqual({
      batchItemFailures: [{ itemIdentifier: 'm-2' }],
    });
  });

  it('refuses an option it does not have, naming it', () => {
    expect(() => returnRecordsOnError({ loger: {} } as ReturnRecordsOnErrorOptions)).toThrow(
      expect.objectContaining({ field: 'returnRecordsOnError.loger' }),
    );
  });
});
