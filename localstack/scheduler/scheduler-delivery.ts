import { randomBytes } from 'node:crypto';
import {
  GetQueueUrlCommand,
  type MessageAttributeValue,
  SendMessageCommand,
  type SQSClient,
} from '@aws-sdk/client-sqs';
import { renderInput } from '../../shared/beat/schedule-input.ts';

/**
 * One run of a schedule delivered to its SQS target as EventBridge Scheduler delivers it: the
 * static Input with its context attributes filled in, retried with exponential backoff within the
 * target's RetryPolicy, then handed to the DeadLetterConfig queue with attributes saying why.
 */

export const SCHEDULE_ARN = '<aws.scheduler.schedule-arn>';
export const ATTEMPT_NUMBER = '<aws.scheduler.attempt-number>';

/** The Scheduler's defaults when a target has no RetryPolicy. */
export const DEFAULT_RETRY = { MaximumRetryAttempts: 185, MaximumEventAgeInSeconds: 86_400 } as const;

/** SQS errors no retry can fix: AWS's Scheduler sends those runs to the DLQ at once. */
const PERMANENT = new Set([
  'QueueDoesNotExist',
  'AWS.SimpleQueueService.NonExistentQueue',
  'InvalidParameterValue',
  'InvalidMessageContents',
  'InvalidAddress',
  'AccessDenied',
  'AccessDeniedException',
  'UnsupportedOperation',
]);

/** 16 hex characters, the shape of the Scheduler's execution ids (`d32c5kddcf5bb8c3`). */
export function executionId(): string {
  return randomBytes(8).toString('hex');
}

/** `arn:aws:sqs:region:account:name` → its parts; undefined for any other ARN. */
export function sqsArnParts(arn: string): { region: string; account: string; name: string } | undefined {
  const m = /^arn:aws[a-z-]*:sqs:([a-z0-9-]+):(\d{12}):([\w.-]+)$/.exec(arn);
  return m ? { region: m[1] as string, account: m[2] as string, name: m[3] as string } : undefined;
}

export interface RunTarget {
  arn: string;
  input?: string | undefined;
  messageGroupId?: string | undefined;
  retry: { maximumRetryAttempts: number; maximumEventAgeSeconds: number };
  deadLetterArn?: string | undefined;
}

export interface Run {
  scheduleArn: string;
  executionId: string;
  scheduledTime: Date;
  target: RunTarget;
}

export interface DeliveryResult {
  outcome: 'delivered' | 'dead-lettered' | 'failed' | 'stopped';
  messageId?: string;
  /** Attempts made on the target. */
  attempts: number;
  error?: string;
  /** When the first attempt was sent. */
  firstAttemptAt: number;
}

export interface DeliveryOptions {
  sqs: SQSClient;
  resolveQueueUrl?: ((arn: string) => string | undefined | Promise<string | undefined>) | undefined;
  /** First retry delay, doubled each time. @defaultValue 1000 */
  retryBaseDelayMs?: number;
  /** @defaultValue 60000 */
  retryMaxDelayMs?: number;
  /** Aborted at stop: pending retries end with outcome `stopped`. */
  signal: AbortSignal;
}

const REQUEST_TIMEOUT_MS = 30_000;

/** What the Scheduler puts in the Input at one attempt. */
export function renderRun(run: Run, attempt: number): string {
  // With no Input, AWS delivers an empty JSON object (SQS refuses an empty body).
  const input = (run.target.input ?? '{}')
    .replaceAll(SCHEDULE_ARN, run.scheduleArn)
    .replaceAll(ATTEMPT_NUMBER, String(attempt));
  return renderInput(input, { executionId: run.executionId, scheduledTime: run.scheduledTime });
}

function errorCode(error: unknown): string {
  const e = error as { Code?: string; name?: string };
  return e.Code ?? e.name ?? 'Error';
}

function pause(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done, { once: true });
  });
}

export class ScheduleDelivery {
  readonly #o: DeliveryOptions;
  readonly #urls = new Map<string, Promise<string>>();

  constructor(options: DeliveryOptions) {
    this.#o = options;
  }

  /** The queue URL for an SQS ARN: the caller's resolver first, else GetQueueUrl (cached). */
  async queueUrl(arn: string): Promise<string> {
    const parts = sqsArnParts(arn);
    if (!parts)
      throw Object.assign(new Error(`${arn} is not an SQS queue ARN`), { name: 'UnsupportedOperation' });
    let url = this.#urls.get(arn);
    if (!url) {
      url = (async () => {
        const known = await this.#o.resolveQueueUrl?.(arn);
        if (known) return known;
        const response = await this.#o.sqs.send(
          new GetQueueUrlCommand({ QueueName: parts.name, QueueOwnerAWSAccountId: parts.account }),
        );
        return response.QueueUrl as string;
      })();
      this.#urls.set(arn, url);
      // A queue created later must be found then: only successes are kept.
      url.catch(() => this.#urls.delete(arn));
    }
    return url;
  }

  async deliver(run: Run): Promise<DeliveryResult> {
    const { retry } = run.target;
    const firstAttemptAt = Date.now();
    const deadline = run.scheduledTime.getTime() + retry.maximumEventAgeSeconds * 1000;
    const base = this.#o.retryBaseDelayMs ?? 1000;
    const max = this.#o.retryMaxDelayMs ?? 60_000;
    let attempt = 0;
    for (;;) {
      attempt++;
      try {
        const messageId = await this.#send(
          run.target.arn,
          renderRun(run, attempt),
          run.target.messageGroupId,
        );
        return { outcome: 'delivered', messageId, attempts: attempt, firstAttemptAt };
      } catch (error) {
        const code = errorCode(error);
        const message = (error as Error).message;
        const retriesMade = attempt - 1;
        const delay = Math.min(max, base * 2 ** retriesMade);
        const exhausted = PERMANENT.has(code)
          ? undefined
          : retriesMade >= retry.maximumRetryAttempts
            ? 'MaximumRetryAttempts'
            : Date.now() + delay > deadline
              ? 'MaximumEventAgeInSeconds'
              : 'none';
        if (exhausted === 'none') {
          await pause(delay, this.#o.signal);
          if (this.#o.signal.aborted) {
            return { outcome: 'stopped', attempts: attempt, error: `${code}: ${message}`, firstAttemptAt };
          }
          continue;
        }
        return this.#deadLetter(run, { code, message, attempts: attempt, exhausted, firstAttemptAt });
      }
    }
  }

  async #send(arn: string, body: string, messageGroupId?: string): Promise<string> {
    const response = await this.#o.sqs.send(
      new SendMessageCommand({
        QueueUrl: await this.queueUrl(arn),
        MessageBody: body,
        ...(messageGroupId ? { MessageGroupId: messageGroupId } : {}),
      }),
      { abortSignal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
    );
    return response.MessageId as string;
  }

  /** The input (first attempt's rendering) to the DLQ, with the Scheduler's error attributes. */
  async #deadLetter(
    run: Run,
    failure: {
      code: string;
      message: string;
      attempts: number;
      exhausted: string | undefined;
      firstAttemptAt: number;
    },
  ): Promise<DeliveryResult> {
    const error = `${failure.code}: ${failure.message}`;
    const result = { attempts: failure.attempts, error, firstAttemptAt: failure.firstAttemptAt };
    const dlq = run.target.deadLetterArn;
    if (!dlq) return { outcome: 'failed', ...result };
    const text = (value: string): MessageAttributeValue => ({ DataType: 'String', StringValue: value });
    const attributes: Record<string, MessageAttributeValue> = {
      ERROR_CODE: text(failure.code),
      ERROR_MESSAGE: text(failure.message.slice(0, 1000) || failure.code),
      EXECUTION_ID: text(run.executionId),
      RETRY_ATTEMPTS: { DataType: 'Number', StringValue: String(failure.attempts - 1) },
      SCHEDULE_ARN: text(run.scheduleArn),
      TARGET_ARN: text(run.target.arn),
      ...(failure.exhausted ? { EXHAUSTED_RETRY_CONDITION: text(failure.exhausted) } : {}),
    };
    try {
      const response = await this.#o.sqs.send(
        new SendMessageCommand({
          QueueUrl: await this.queueUrl(dlq),
          MessageBody: renderRun(run, 1),
          MessageAttributes: attributes,
        }),
        { abortSignal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) },
      );
      return { outcome: 'dead-lettered', messageId: response.MessageId as string, ...result };
    } catch (dlqError) {
      return {
        outcome: 'failed',
        ...result,
        error: `${error}; the DLQ refused it too: ${(dlqError as Error).message}`,
      };
    }
  }
}
