import type { SQSRecord } from 'aws-lambda';
import { decodeEnvelope } from '../envelope/codec.ts';
import { EnvelopeError } from '../envelope/errors.ts';
import type { Envelope } from '../envelope/schema.ts';
import type { Logger } from '../log.ts';
import type { Completion } from '../results/store.ts';
import type { RegisteredTask, TaskRegistry } from '../task/registry.ts';
import { TaskState } from '../task/states.ts';
import { validateArgs } from '../task/validate-args.ts';
import { describeError } from './execute.ts';

/**
 * Turns a record into a task to run, or into a poison message: not JSON, not an envelope, an unknown
 * task, or args its schema refuses. A poison message's failure is recorded under its id when one
 * can be read, so whoever sent it can see why it never ran.
 */
export function decodeRecord(
  record: SQSRecord,
  registry: TaskRegistry,
  now: number,
  resultExpires: number,
  log: Logger,
): { envelope: Envelope; task: RegisteredTask } | { poison?: Completion } {
  try {
    const envelope = decodeEnvelope(record.body);
    const task = registry.require(envelope.task);
    validateArgs(task, envelope.args, envelope.kwargs, 'envelope');
    return { envelope, task };
  } catch (error) {
    const { errorType, traceback } = describeError(error);
    const readable =
      error instanceof EnvelopeError ? { id: error.taskId, task: error.taskName } : tryParse(record.body);
    log.error('rejected message', {
      messageId: record.messageId,
      taskId: readable?.id,
      task: readable?.task,
      error: errorType,
      reason: (error as Error).message,
    });
    if (readable?.id === undefined) return {};
    return {
      poison: {
        record: {
          taskId: readable.id,
          ...(readable.task ? { taskName: readable.task } : {}),
          status: TaskState.FAILURE,
          errorType,
          traceback,
          dateDone: new Date(now).toISOString(),
          expiresAt: Math.floor(now / 1000) + resultExpires,
        },
      },
    };
  }
}

function tryParse(body: string): { id?: string; task?: string } | undefined {
  try {
    const value = JSON.parse(body);
    if (!value || typeof value !== 'object') return undefined;
    return {
      ...(typeof value.id === 'string' ? { id: value.id } : {}),
      ...(typeof value.task === 'string' ? { task: value.task } : {}),
    };
  } catch {
    return undefined;
  }
}
