import type { SQSRecord } from 'aws-lambda';
import { CeleryMessageError } from '../celery/errors.ts';
import { decodeCeleryMessage } from '../celery/intake.ts';
import type { CelerityConfig } from '../config/config.ts';
import { decodeEnvelope } from '../envelope/codec.ts';
import { EnvelopeError } from '../envelope/errors.ts';
import type { Envelope } from '../envelope/schema.ts';
import type { Logger } from '../log.ts';
import type { Completion } from '../results/store.ts';
import type { RegisteredTask, TaskRegistry } from '../task/registry.ts';
import { TaskState } from '../task/states.ts';
import { validateArgs } from '../task/validate-args.ts';
import { UnknownQueueError } from './errors.ts';
import { describeError, safeText } from './execute.ts';

export interface DecodeContext {
  registry: TaskRegistry;
  config: Pick<CelerityConfig, 'queues' | 'resultExpires'>;
  now: number;
  log: Logger;
}

/** A record the worker cannot run: why, and the row that says so when its task id can be read. */
export interface Rejected {
  error: unknown;
  taskId?: string;
  taskName?: string;
  poison?: Completion;
  /** The message came in Celery's protocol: its refusal is owed to a Celery client too. */
  celery?: true;
}

/**
 * Turns a record into a task to run, or into a poison message: not JSON, not an envelope (nor a
 * Celery protocol 2 message it can honour: shared/celery), a route queue this deployment does not
 * have, an unknown task, or args its schema refuses. A poison message's failure is recorded under
 * its id when one can be read, so whoever sent it can see why it never ran.
 */
export function decodeRecord(
  record: SQSRecord,
  context: DecodeContext,
): { envelope: Envelope; task: RegisteredTask } | Rejected {
  let envelope: Envelope | undefined;
  try {
    envelope =
      decodeCeleryMessage(record.body, { arn: record.eventSourceARN, queues: context.config.queues }) ??
      decodeEnvelope(record.body);
    const known = Object.keys(context.config.queues);
    if (envelope.queue !== undefined && !known.includes(envelope.queue))
      throw new UnknownQueueError(envelope.queue, known);
    const task = context.registry.require(envelope.task);
    validateArgs(task, envelope.args, envelope.kwargs, 'envelope');
    return { envelope, task };
  } catch (error) {
    const readable = envelope
      ? { id: envelope.id, task: envelope.task }
      : error instanceof EnvelopeError
        ? { id: error.taskId, task: error.taskName }
        : tryParse(record.body);
    const rejected = reject(record, error, readable?.id, readable?.task, context);
    return envelope?.celery || error instanceof CeleryMessageError ? { ...rejected, celery: true } : rejected;
  }
}

/**
 * Logs a record the worker will not run and builds its poison row (when its id is known): a
 * FAILURE marked `poison`, which a later delivery may take over once a deploy has fixed the cause.
 */
export function reject(
  record: SQSRecord,
  error: unknown,
  taskId: string | undefined,
  taskName: string | undefined,
  context: Omit<DecodeContext, 'registry'>,
): Rejected {
  const { errorType, traceback } = describeError(error);
  context.log.error('rejected message', {
    messageId: record.messageId,
    taskId,
    task: taskName,
    error: errorType,
    reason: traceback.split('\n', 1)[0] ?? safeText(error),
  });
  if (taskId === undefined) return { error };
  return {
    error,
    taskId,
    ...(taskName ? { taskName } : {}),
    poison: {
      record: {
        taskId,
        ...(taskName ? { taskName } : {}),
        status: TaskState.FAILURE,
        errorType,
        traceback,
        dateDone: new Date(context.now).toISOString(),
        expiresAt: Math.floor(context.now / 1000) + context.config.resultExpires,
        poison: true,
      },
    },
  };
}

function tryParse(body: string): { id?: string; task?: string } | undefined {
  try {
    const value = JSON.parse(body);
    if (!value || typeof value !== 'object') return undefined;
    return {
      ...(typeof value.id === 'string' && value.id ? { id: value.id } : {}),
      ...(typeof value.task === 'string' ? { task: value.task } : {}),
    };
  } catch {
    return undefined;
  }
}
