import type { SignatureInput } from '../envelope/signature.ts';
import { ValidationError } from '../errors.ts';
import type { TaskResultRecord } from '../results/record.ts';
import type { TaskRegistry } from '../task/registry.ts';
import { TaskState } from '../task/states.ts';
import { runEager } from '../worker/eager.ts';
import { dependencyError } from './chord-fire.ts';

/**
 * Runs one part inline (Celery's `task_always_eager`): its row as the run left it, with `first`
 * put before its args unless it is immutable.
 */
async function runPart(
  registry: TaskRegistry,
  part: SignatureInput,
  field: string,
  first: readonly unknown[] = [],
): Promise<TaskResultRecord> {
  const task = registry.get(part.task);
  if (!task)
    throw ValidationError.of(
      `${field}.task`,
      `${part.task} is not registered here, so it cannot run eagerly`,
    );
  const args = [...(part.immutable ? [] : first), ...(part.args ?? [])];
  const result = await runEager(task, { task: part.task, args, kwargs: part.kwargs ?? {}, taskId: part.id });
  return result.record as TaskResultRecord;
}

/** An eager group: each member run inline, in member order; their rows. */
export async function runGroupEagerly(
  registry: TaskRegistry,
  members: readonly SignatureInput[],
): Promise<TaskResultRecord[]> {
  const rows: TaskResultRecord[] = [];
  for (const [index, member] of members.entries())
    rows.push(await runPart(registry, member, `members[${index}]`));
  return rows;
}

/**
 * An eager chord: the members run, then the callback with their results in order; a member that
 * failed makes the callback's row a `ChordError` FAILURE, and it does not run.
 */
export async function runChordEagerly(
  registry: TaskRegistry,
  members: readonly SignatureInput[],
  callback: SignatureInput,
): Promise<{ members: TaskResultRecord[]; callback: TaskResultRecord }> {
  const rows = await runGroupEagerly(registry, members);
  const failed = rows.find((row) => row.status !== TaskState.SUCCESS);
  if (failed) {
    const error = dependencyError(failed);
    return {
      members: rows,
      callback: {
        taskId: callback.id,
        taskName: callback.task,
        status: TaskState.FAILURE,
        errorType: error.exceptionType,
        traceback: `${error.exceptionType}: ${error.message}`,
        dateDone: new Date().toISOString(),
      },
    };
  }
  const results = rows.map((row) => (row.result === undefined ? null : JSON.parse(row.result)));
  return { members: rows, callback: await runPart(registry, callback, 'callback', [results]) };
}
