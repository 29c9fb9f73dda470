import type { Command } from 'commander';
import {
  getTaskResult,
  NotFoundError,
  OperationFailedError,
  type PartView,
  revokeTask,
  type TaskParts,
  taskParts,
  waitForResult,
} from '../../shared/ops/index.ts';
import type { TaskView } from '../../shared/ops/tasks.ts';
import { ResultTimeoutError } from '../../shared/producer/errors.ts';
import { BUILTIN_STATES, READY_STATES, type TaskState } from '../../shared/task/states.ts';
import type { CliApp } from '../app.ts';
import { ExitCode, UsageError } from '../errors.ts';
import { keyValues, runtime, shortTime } from '../format.ts';
import { parseNumber } from '../parse.ts';
import { showGroup } from './group-result.ts';

/** How long `--wait` waits when no `--timeout` is given; `--timeout 0` waits without end. */
export const DEFAULT_WAIT_SECONDS = 60;

export const WAIT_HELP = 'wait for a ready state (SUCCESS, FAILURE, REVOKED); exit 1 if it failed';
export const TIMEOUT_HELP = `with --wait: give up after this many seconds, with exit 1 (default ${DEFAULT_WAIT_SECONDS}; 0 waits without end)`;

/** A finished task's exit code: 0 for SUCCESS, 1 for FAILURE or REVOKED. */
export function stateCode(view: TaskView): ExitCode {
  return view.status === 'FAILURE' || view.status === 'REVOKED' ? ExitCode.failed : ExitCode.ok;
}

/** `2026-01-31 09:00:00Z by one-time schedule celerity-x-r0 (queue default)`. */
function scheduledText(view: TaskView): string | undefined {
  const s = view.scheduled;
  if (!s) return undefined;
  return `for ${shortTime(s.eta) ?? 'an unreadable time'} by one-time schedule ${s.schedule}${s.queue ? ` (queue ${s.queue})` : ''}`;
}

/** `3f2c… apps.tasks.add SUCCESS`: a canvas part on one line. */
function partLine(part: PartView): string {
  return [part.taskId, part.taskName, part.status].filter(Boolean).join('  ');
}

function isCustomState(state: TaskState): boolean {
  return !(BUILTIN_STATES as readonly string[]).includes(state);
}

export function describeTask(view: TaskView, parts?: TaskParts): string {
  return keyValues([
    ['id', view.taskId],
    ['task', view.taskName],
    [
      'state',
      view.scheduled && view.status === 'PENDING' ? 'PENDING (scheduled, not sent yet)' : view.status,
    ],
    ['scheduled', scheduledText(view)],
    ['result', view.status === 'SUCCESS' ? view.result : undefined],
    // A custom state's meta (`ctx.updateState`), kept where the result will be, as Celery's `info`.
    ['meta', isCustomState(view.status) ? view.result : undefined],
    ['error', view.errorType],
    ['traceback', view.traceback],
    ['args', view.args],
    ['kwargs', view.kwargs],
    ['retries', view.retries],
    ['queue', view.queue],
    ['periodic task', view.periodicTask],
    ['eta', shortTime(view.eta)],
    ['worker', view.worker],
    ['created', shortTime(view.dateCreated)],
    ['started', shortTime(view.dateStarted)],
    ['done', shortTime(view.dateDone)],
    ['runtime', runtime(view.dateStarted, view.dateDone)],
    ['truncated', view.truncated?.join(', ')],
    ['ancestors', parts?.ancestors?.map(partLine).join('\n')],
    ['parent', parts?.parent ? partLine(parts.parent) : view.parentId],
    ['children', parts?.children.length ? parts.children.map(partLine).join('\n') : undefined],
  ]);
}

/** `--timeout` in seconds (0: no limit), or the default; only with `--wait`. */
export function timeoutOf(options: { timeout?: string; wait?: boolean }): number {
  if (options.timeout === undefined) return DEFAULT_WAIT_SECONDS;
  if (!options.wait) throw new UsageError('--timeout: only means something with --wait');
  return parseNumber('--timeout', options.timeout, { min: 0 });
}

/** Where a task stands, in words: its state, its schedule, or why there is no row. */
function standing(view: TaskView | undefined): string {
  if (!view)
    return 'no row yet and no schedule holds it: queued but not picked up by a worker, never sent, or expired';
  if (view.scheduled) return `${view.status}, its next send scheduled ${scheduledText(view)}`;
  return `now ${view.status}`;
}

async function lookUp(ctx: Parameters<typeof getTaskResult>[0], taskId: string) {
  try {
    return await getTaskResult(ctx, taskId);
  } catch (error) {
    if (error instanceof NotFoundError) return undefined;
    throw error;
  }
}

/**
 * Waits for a ready state, saying first on stderr what it waits for, and giving up after
 * `seconds` (0: never) with `OperationFailed` saying where the task stood then.
 */
export async function waitForTask(
  app: CliApp,
  ctx: Parameters<typeof getTaskResult>[0],
  taskId: string,
  seconds: number,
): Promise<TaskView> {
  const first = await lookUp(ctx, taskId);
  if (first && READY_STATES.has(first.status)) return first;
  const limit = seconds > 0 ? `up to ${seconds} s` : 'without a time limit';
  app.note(`celerity: waiting ${limit} for task ${taskId}: ${standing(first)}`);
  try {
    return await waitForResult(ctx, taskId, seconds > 0 ? { timeoutSeconds: seconds } : {});
  } catch (error) {
    if (!(error instanceof ResultTimeoutError)) throw error;
    const last = await lookUp(ctx, taskId);
    throw new OperationFailedError(
      `gave up after ${seconds} s waiting for task ${taskId}: ${standing(last)} (--timeout N waits longer; 0 without end)`,
      { taskId, status: last?.status ?? 'UNKNOWN' },
      { cause: error },
    );
  }
}

export function registerResultCommands(program: Command, app: CliApp): void {
  program
    .command('result')
    .description("a task's state and result (Celery's AsyncResult); a far eta shows its schedule")
    .argument('<id>', 'the task id, or a group id (its members and their states)')
    .option('--wait', WAIT_HELP)
    .option('--timeout <seconds>', TIMEOUT_HELP)
    .action(
      app.action(async (id: string, options: { wait?: boolean; timeout?: string }) => {
        const timeout = timeoutOf(options);
        const { ctx } = await app.target();
        const group = await showGroup(app, ctx, id, options.wait ? { seconds: timeout } : undefined);
        if (group !== undefined) return group;
        const view = options.wait ? await waitForTask(app, ctx, id, timeout) : await getTaskResult(ctx, id);
        // A chain's parts around it: those before it, the task that sent it and those it sent
        // (Celery's parent, walked up, and children).
        const parts = await taskParts(ctx, view);
        const shown = parts.parent || parts.children.length > 0 ? { ...view, parts } : view;
        app.output(shown, () => describeTask(view, parts));
        return stateCode(view);
      }),
    );
}

export function registerRevoke(program: Command, app: CliApp): void {
  program
    .command('revoke')
    .description(
      'revoke tasks: if not started yet, they never run; a far eta loses its schedule (exit 1 if one had already finished)',
    )
    .argument('<ids...>', 'task ids')
    .action(
      app.action(async (ids: string[]) => {
        const { ctx } = await app.targetForWrite();
        const outcomes = await Promise.all(
          ids.map((id) =>
            revokeTask(ctx, id).then(
              (r) => ({ ...r, revoked: true as const }),
              (error: unknown) => {
                if (!(error instanceof OperationFailedError) || error.details.status === 'REVOKED')
                  throw error;
                return {
                  taskId: id,
                  status: (error.details.status as string | undefined) ?? 'UNKNOWN',
                  revoked: false as const,
                };
              },
            ),
          ),
        );
        app.output(outcomes, () =>
          outcomes
            .map((o) =>
              !o.revoked
                ? `not revoked ${o.taskId}: already finished with ${o.status}`
                : o.deletedSchedules.length
                  ? `revoked ${o.taskId} (deleted its schedule ${o.deletedSchedules.join(', ')})`
                  : `revoked ${o.taskId}`,
            )
            .join('\n'),
        );
        return outcomes.every((o) => o.revoked) ? ExitCode.ok : ExitCode.failed;
      }),
    );
}
