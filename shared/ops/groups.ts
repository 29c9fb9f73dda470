import { mapLimit } from '../batches.ts';
import { chordKey, chunksOf, getItems, readGroupRecord } from '../canvas/group-store.ts';
import type { TaskResultRecord } from '../results/record.ts';
import { READY_STATES, TaskState } from '../task/states.ts';
import { nowOf, type OpsContext } from './context.ts';
import { resultStore } from './tasks.ts';

/** One member of a group, as `celerity result GROUP_ID` lists it. */
export interface GroupMemberView {
  index: number;
  taskId: string;
  taskName?: string;
  /** PENDING when the member has no row yet (queued, not picked up). */
  status: TaskState;
  errorType?: string;
  dateDone?: string;
}

/** A group (or a chord's header) with its members' states, in member order. */
export interface GroupView {
  groupId: string;
  size: number;
  /** Members in each state. */
  states: Partial<Record<TaskState, number>>;
  /** Members that succeeded (Celery's `completed_count`). */
  completed: number;
  ready: boolean;
  dateCreated: string;
  /** Set for a chord: its callback and where it stands. */
  chord?: {
    callbackId: string;
    callbackTask: string;
    status: TaskState;
    errorType?: string;
    traceback?: string;
  };
  members: GroupMemberView[];
}

const READ_CONCURRENCY = 8;

/**
 * A group's members and their states, from the group's record and the members' rows (one
 * `BatchGetItem` per 100 members); undefined when no group has that id (or its record expired).
 */
export async function getGroupResult(ctx: OpsContext, groupId: string): Promise<GroupView | undefined> {
  const store = resultStore(ctx);
  const group = await readGroupRecord(store.dynamo, store.table, groupId, nowOf(ctx));
  if (!group) return undefined;
  const rows = new Map<string, TaskResultRecord>();
  await mapLimit(chunksOf(group.memberIds, 100), READ_CONCURRENCY, async (ids) => {
    for (const row of await store.getMany(ids)) rows.set(row.taskId, row);
  });
  const states: Partial<Record<TaskState, number>> = {};
  const members = group.memberIds.map((taskId, index) => {
    const row = rows.get(taskId);
    const status = row?.status ?? TaskState.PENDING;
    states[status] = (states[status] ?? 0) + 1;
    return {
      index,
      taskId,
      status,
      ...(row?.taskName ? { taskName: row.taskName } : {}),
      ...(row?.errorType ? { errorType: row.errorType } : {}),
      ...(row?.dateDone ? { dateDone: row.dateDone } : {}),
    };
  });
  return {
    groupId,
    size: members.length,
    states,
    completed: states.SUCCESS ?? 0,
    ready: members.every((m) => READY_STATES.has(m.status)),
    dateCreated: group.dateCreated,
    ...(group.chord ? { chord: await chordView(ctx, groupId) } : {}),
    members,
  };
}

async function chordView(ctx: OpsContext, groupId: string): Promise<GroupView['chord']> {
  const store = resultStore(ctx);
  const chord = (await getItems(store.dynamo, store.table, [chordKey(groupId)])).get(chordKey(groupId));
  if (!chord) return undefined;
  const callback = JSON.parse(String(chord.callback)) as { id: string; task: string };
  const row = await store.get(callback.id);
  return {
    callbackId: callback.id,
    callbackTask: callback.task,
    status: row?.status ?? TaskState.PENDING,
    ...(row?.errorType ? { errorType: row.errorType } : {}),
    ...(row?.traceback ? { traceback: row.traceback } : {}),
  };
}
