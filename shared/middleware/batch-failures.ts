import type { SQSBatchResponse, SQSEvent } from 'aws-lambda';
import { createLogger, type Logger } from '../log.ts';
import { describeError } from '../worker/execute.ts';
import { refuseUnknownOptions } from './options.ts';
import type { MiddlewareLikeObj, MiddyLikeRequest } from './types.ts';

export interface ReturnRecordsOnErrorOptions {
  /** Where the failure is logged. @defaultValue a logger of component `worker` */
  logger?: Logger;
}

/**
 * Turns an error nothing foresaw (thrown by the handler or another middleware) into an answer
 * that returns every record of the SQS batch, logged at ERROR with its cause and the records'
 * ids: the batch comes back visibly, never as a silent retry. Use it after `injectLambdaContext`
 * (middy runs `onError` hooks last-used first), so its line still names the invocation.
 */
export function returnRecordsOnError(
  options: ReturnRecordsOnErrorOptions = {},
): MiddlewareLikeObj<SQSEvent, SQSBatchResponse> {
  refuseUnknownOptions('returnRecordsOnError', options, ['logger']);
  const log = options.logger ?? createLogger({ component: 'worker' });
  const onError = (request: MiddyLikeRequest<SQSEvent, SQSBatchResponse>): void => {
    const ids = (request.event?.Records ?? []).map((record) => record.messageId);
    log.error('worker invocation failed; every record of the batch will be delivered again', {
      records: ids,
      cause: describeError(request.error).traceback,
    });
    // Set, not returned: a returned value would stop the `onError` hooks used before this one.
    request.response = { batchItemFailures: ids.map((itemIdentifier) => ({ itemIdentifier })) };
  };
  return { onError };
}
