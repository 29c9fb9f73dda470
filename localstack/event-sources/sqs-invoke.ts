import type { Context, SQSBatchResponse, SQSEvent, SQSRecord } from 'aws-lambda';
import type { LocalInvocation } from '../lambda/invocation-scope.ts';
import { lambdaContext, partialCause, reportedFailures } from './sqs-event.ts';

/** A function as Lambda calls it: what `functions/worker.ts` exports, or a test's stand-in. */
export type SqsHandler = (
  event: SQSEvent,
  context: Context,
) => Promise<SQSBatchResponse | undefined> | Promise<void>;

/** How one invocation ended, and which of its records it left undone (they go back to the queue). */
export interface InvocationEnd {
  outcome: 'success' | 'partial' | 'error' | 'timeout' | 'crash';
  failed: string[];
  cause?: string;
  error?: Error;
}

/** The function an invocation runs, as the mapping and the function's settings describe it. */
export interface InvokedFunction {
  handler: SqsHandler;
  functionName: string;
  region: string;
  memoryMb: number;
  timeoutSeconds: number;
  reportBatchItemFailures: boolean;
}

/** One invocation, to its return, throw, timeout or crash. */
export async function runInvocation(
  fn: InvokedFunction,
  invocation: LocalInvocation,
  records: SQSRecord[],
  timeoutMs: number,
): Promise<InvocationEnd> {
  const all = records.map((r) => r.messageId);
  let timer: NodeJS.Timeout | undefined;
  try {
    const timedOut = new Promise<{ kind: 'timeout' }>((resolve) => {
      timer = setTimeout(() => resolve({ kind: 'timeout' }), timeoutMs);
    });
    const context = lambdaContext({
      requestId: invocation.requestId,
      deadline: invocation.deadline,
      functionName: fn.functionName,
      region: fn.region,
      memoryMb: fn.memoryMb,
    });
    const ended = await Promise.race([
      invocation
        .run(() => fn.handler({ Records: records }, context))
        .then((response) => ({ kind: 'returned' as const, response })),
      timedOut,
      invocation.crashed.then((reason) => ({ kind: 'crash' as const, reason })),
    ]);
    if (ended.kind === 'crash') {
      return { outcome: 'crash', failed: all, cause: `the invocation crashed: ${ended.reason}` };
    }
    // An answer that comes after the timeout (the event loop was blocked past it) never reached
    // Lambda: the run was stopped first. In-process the body may go on: it is fenced off from AWS.
    if (ended.kind === 'timeout' || Date.now() > invocation.deadline) return giveUp(fn, invocation, all);
    if (!fn.reportBatchItemFailures) return { outcome: 'success', failed: [] };
    const failed = reportedFailures(ended.response, records);
    if (failed.length === 0) return { outcome: 'success', failed };
    return { outcome: 'partial', failed, cause: partialCause(ended.response, failed, records.length) };
  } catch (thrown) {
    if (Date.now() > invocation.deadline) return giveUp(fn, invocation, all);
    const error = thrown instanceof Error ? thrown : new Error(String(thrown));
    return {
      outcome: 'error',
      failed: all,
      error,
      cause: `the handler threw ${error.name}: ${error.message}`,
    };
  } finally {
    clearTimeout(timer);
  }
}

function giveUp(fn: InvokedFunction, invocation: LocalInvocation, all: string[]): InvocationEnd {
  const cause = `Task timed out after ${fn.timeoutSeconds.toFixed(2)} seconds`;
  invocation.abandon('timeout', cause);
  return { outcome: 'timeout', failed: all, cause };
}
