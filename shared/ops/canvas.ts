import { TaskState } from '../task/states.ts';
import type { OpsContext } from './context.ts';
import { resultStore, type TaskView } from './tasks.ts';

/** A canvas part as `celerity result` shows it: its id, task and state (PENDING while it has no row). */
export interface PartView {
  taskId: string;
  taskName?: string;
  status: TaskState;
}

/** The parts of a canvas around a task: the task that sent it, and those it sent when it finished. */
export interface TaskParts {
  parent?: PartView;
  children: PartView[];
}

/**
 * A task's place in a chain (Celery's `AsyncResult.parent` and `children`): its parent and its
 * children, read in one `BatchGetItem`. A child with no row yet is PENDING (sent, not picked up).
 */
export async function taskParts(
  ctx: OpsContext,
  view: Pick<TaskView, 'parentId' | 'children'>,
): Promise<TaskParts> {
  const ids = [...(view.parentId ? [view.parentId] : []), ...(view.children ?? [])];
  if (ids.length === 0) return { children: [] };
  const rows = new Map((await resultStore(ctx).getMany(ids)).map((r) => [r.taskId, r]));
  const part = (taskId: string): PartView => {
    const row = rows.get(taskId);
    return {
      taskId,
      ...(row?.taskName ? { taskName: row.taskName } : {}),
      status: row?.status ?? TaskState.PENDING,
    };
  };
  return {
    ...(view.parentId ? { parent: part(view.parentId) } : {}),
    children: (view.children ?? []).map(part),
  };
}
