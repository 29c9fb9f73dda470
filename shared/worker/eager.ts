import { getConfig } from '../config/config.ts';
import { encodeEnvelope } from '../envelope/codec.ts';
import { AsyncResult } from '../producer/async-result.ts';
import { callToEnvelope, type TaskCall } from '../producer/call.ts';
import type { RegisteredTask } from '../task/registry.ts';
import { TaskState } from '../task/states.ts';
import { validateArgs } from '../task/validate-args.ts';
import { describeError, executeTask, taskRequest } from './execute.ts';

/**
 * Runs a call inline, retries included, and returns a ready result (Celery's `task_always_eager`,
 * which the seed's test settings turn on). Countdowns are not waited for, as in Celery.
 */
export async function runEager<R>(task: RegisteredTask, call: TaskCall): Promise<AsyncResult<R>> {
  const { envelope } = encodeEnvelope({ ...callToEnvelope(call, Date.now()), origin: 'eager' });
  validateArgs(task, envelope.args, envelope.kwargs);
  const started = new Date().toISOString();
  for (let retries = envelope.retries; ; retries++) {
    const outcome = await executeTask(task, {
      request: taskRequest(envelope, { retries, deliveryCount: 1, isEager: true }),
      args: envelope.args,
      kwargs: envelope.kwargs,
      limits: { timeLimit: envelope.timeLimit, softTimeLimit: envelope.softTimeLimit },
    });
    if (outcome.kind === 'retry') continue;
    const base = {
      taskId: envelope.id,
      taskName: task.name,
      retries,
      dateStarted: started,
      dateDone: new Date().toISOString(),
    };
    if (outcome.kind === 'success') {
      return new AsyncResult<R>(envelope.id, {
        record: { ...base, status: TaskState.SUCCESS, result: JSON.stringify(outcome.result ?? null) },
      });
    }
    if (getConfig().eagerPropagates) throw outcome.error;
    return new AsyncResult<R>(envelope.id, {
      record: { ...base, status: TaskState.FAILURE, ...describeError(outcome.error) },
    });
  }
}
