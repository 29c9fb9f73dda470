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
  /** The parent's own parents, the root first (a chain's earlier members): absent when none. */
  ancestors?: PartView[];
  parent?: PartView;
  children: PartView[];
}

/** How far up `ancestors` goes: a chain longer than this is cut at its nearest members. */
export const MAX_ANCESTORS = 100;

/**
 * A task's place in a chain (Celery's `AsyncResult.parent` and `children`): its parent and its
 * children, read in one `BatchGetItem`, and the parent's own parents up to the root. A part with no
 * row yet is PENDING (sent, not picked up).
 */
export async function taskParts(
  ctx: OpsContext,
  view: Pick<TaskView, 'parentId' | 'children'>,
): Promise<TaskParts> {
  const ids = [...(view.parentId ? [view.parentId] : []), ...(view.children ?? [])];
  if (ids.length === 0) return { children: [] };
  const store = resultStore(ctx);
  const rows = new Map((await store.getMany(ids)).map((r) => [r.taskId, r]));
  // Up the parents, one read each (a chain's AsyncResult is its last member: this shows it whole).
  const ancestors: PartView[] = [];
  const seen = new Set(ids);
  let up = view.parentId ? rows.get(view.parentId)?.parentId : undefined;
  while (up && !seen.has(up) && ancestors.length < MAX_ANCESTORS) {
    seen.add(up);
    const row = await store.get(up);
    ancestors.unshift(partOf(up, row));
    up = row?.parentId;
  }
  const part = (taskId: string): PartView => partOf(taskId, rows.get(taskId));
  return {
    ...(ancestors.length > 0 ? { ancestors } : {}),
    ...(view.parentId ? { parent: part(view.parentId) } : {}),
    children: (view.children ?? []).map(part),
  };
}

function partOf(taskId: string, row: Pick<TaskView, 'taskName' | 'status'> | undefined): PartView {
  return {
    taskId,
    ...(row?.taskName ? { taskName: row.taskName } : {}),
    status: row?.status ?? TaskState.PENDING,
  };
}
