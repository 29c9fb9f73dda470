import type { Message } from '@aws-sdk/client-sqs';
import type { TaskResultRecord } from '../results/record.ts';
import type { FailureQueueKind } from './failure-queues.ts';

/** The Scheduler's dead-letter attributes (its `ERROR_CODE`, `ERROR_MESSAGE`, ...). */
export interface SchedulerFailure {
  errorCode?: string;
  errorMessage?: string;
  executionId?: string;
  scheduleArn?: string;
  targetArn?: string;
  retryAttempts?: number;
  exhaustedRetryCondition?: string;
}

/** A Lambda failure record (stream batch or async invocation) of the beat-sync function. */
export interface LambdaFailure {
  /** `RetryAttemptsExhausted`, `RecordAgeExceeded`, `RetriesExhausted`, ... */
  condition?: string;
  functionError?: string;
  approximateInvokeCount?: number;
  /** For a stream batch: which records were skipped. */
  shardId?: string;
  startSequenceNumber?: string;
  endSequenceNumber?: string;
  batchSize?: number;
  /** For an async invocation: what the function threw. */
  errorType?: string;
  errorMessage?: string;
}

export interface DeadLetter {
  messageId: string;
  /** Receives so far, from the source queue and this peek included. */
  receiveCount: number;
  sentAt?: string;
  bytes: number;
  /** Why it is here, in one line: the task's recorded error, the Scheduler's, the stream failure's condition. */
  reason?: string;
  taskId?: string;
  task?: string;
  /** The task's result row, when there is one (a task DLQ message). */
  status?: string;
  errorType?: string;
  /** A Scheduler dead letter: the error attributes; the target input is the body (`task`, `taskId`). */
  scheduler?: SchedulerFailure;
  /** A beat-sync failure record. */
  lambda?: LambdaFailure;
  /** The body, when it is not what its queue should hold. */
  body?: string;
}

function parse(body: string): Record<string, unknown> | undefined {
  try {
    const value = JSON.parse(body) as unknown;
    return value && typeof value === 'object' && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const num = (v: unknown): number | undefined => {
  const n = typeof v === 'string' ? Number(v) : v;
  return typeof n === 'number' && Number.isFinite(n) ? n : undefined;
};
const obj = (v: unknown): Record<string, unknown> =>
  v && typeof v === 'object' ? (v as Record<string, unknown>) : {};
/** Keeps only the fields that are set. */
const defined = <T extends object>(o: T): T =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;

function schedulerFailure(message: Message): SchedulerFailure | undefined {
  const a = message.MessageAttributes ?? {};
  const text = (key: string) => str(a[key]?.StringValue);
  const failure = defined<SchedulerFailure>({
    errorCode: text('ERROR_CODE'),
    errorMessage: text('ERROR_MESSAGE'),
    executionId: text('EXECUTION_ID'),
    scheduleArn: text('SCHEDULE_ARN'),
    targetArn: text('TARGET_ARN'),
    retryAttempts: num(text('RETRY_ATTEMPTS')),
    exhaustedRetryCondition: text('EXHAUSTED_RETRY_CONDITION'),
  });
  return Object.keys(failure).length ? failure : undefined;
}

function lambdaFailure(record: Record<string, unknown>): LambdaFailure | undefined {
  const request = obj(record.requestContext);
  if (!str(request.condition) && !record.DDBStreamBatchInfo) return undefined;
  const batch = obj(record.DDBStreamBatchInfo);
  const response = obj(record.responsePayload);
  return defined<LambdaFailure>({
    condition: str(request.condition),
    functionError: str(obj(record.responseContext).functionError),
    approximateInvokeCount: num(request.approximateInvokeCount),
    shardId: str(batch.shardId),
    startSequenceNumber: str(batch.startSequenceNumber),
    endSequenceNumber: str(batch.endSequenceNumber),
    batchSize: num(batch.batchSize),
    errorType: str(response.errorType),
    errorMessage: str(response.errorMessage),
  });
}

function lambdaReason(f: LambdaFailure): string {
  const what = f.shardId
    ? `stream batch of ${f.batchSize ?? '?'} records, shard ${f.shardId}, sequence ${f.startSequenceNumber ?? '?'} to ${f.endSequenceNumber ?? '?'}`
    : 'async invocation';
  const error = f.errorMessage
    ? `: ${f.errorType ? `${f.errorType}: ` : ''}${f.errorMessage}`
    : f.functionError
      ? ` (function error ${f.functionError})`
      : '';
  return `${f.condition ?? 'failed'} after ${f.approximateInvokeCount ?? '?'} invocations, ${what}${error}`;
}

/** A failed run's one-line reason: the traceback's first line names the error and its message. */
export function taskReason(record: Pick<TaskResultRecord, 'status' | 'errorType' | 'traceback'>): string {
  const first = record.traceback?.split('\n')[0]?.trim();
  if (first) return `${record.status}: ${first}`;
  return record.errorType ? `${record.status}: ${record.errorType}` : record.status;
}

/** What one failure-queue message says, read as its queue's kind of message. */
export function describeDeadLetter(kind: FailureQueueKind, message: Message): DeadLetter {
  const body = message.Body ?? '';
  const value = parse(body);
  const sent = Number(message.Attributes?.SentTimestamp);
  const letter: DeadLetter = {
    messageId: message.MessageId ?? '',
    receiveCount: Number(message.Attributes?.ApproximateReceiveCount ?? 0),
    ...(Number.isFinite(sent) ? { sentAt: new Date(sent).toISOString() } : {}),
    bytes: Buffer.byteLength(body),
  };
  const lambda = kind === 'beat-sync' && value ? lambdaFailure(value) : undefined;
  if (lambda) return { ...letter, lambda, reason: lambdaReason(lambda) };
  const envelope = kind !== 'beat-sync' ? value : undefined;
  const taskId = str(envelope?.id);
  const task = str(envelope?.task);
  Object.assign(letter, defined({ taskId, task }));
  if (kind === 'scheduler') {
    const scheduler = schedulerFailure(message);
    if (scheduler) {
      letter.scheduler = scheduler;
      letter.reason = [scheduler.errorCode, scheduler.errorMessage].filter(Boolean).join(': ');
      // A placeholder id: the delivery's task id is the execution id it would have carried.
      if (scheduler.executionId && (!taskId || taskId.startsWith('<aws.')))
        letter.taskId = scheduler.executionId;
    }
  }
  if (!envelope || (!task && !letter.scheduler)) letter.body = body.slice(0, 200);
  return letter;
}

/**
 * `move-task` and `copy` for a route's DLQ; `resend` (the Scheduler's DLQ: each target input to
 * its task queue) and `reconcile` (beat-sync: the schedules rebuilt from the table) are chosen by
 * the queue's kind.
 */
export type RedriveStrategy = 'move-task' | 'copy' | 'resend' | 'reconcile';

export interface RedriveReport {
  queue: string;
  strategy: RedriveStrategy;
  /** Messages moved back (copy), or the DLQ's approximate count when the move task started. */
  moved: number;
  failed: number;
  /** The SQS move task, with `move-task`. */
  taskHandle?: string;
  /** Why messages stayed (`failed`), one line each. */
  problems?: string[];
  /** With `reconcile`: what the rebuild of the schedules did. */
  reconcile?: { checked: number; created: number; updated: number; deleted: number; invalid: number };
}
