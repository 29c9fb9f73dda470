import {
  type GroupView,
  getGroupResult,
  OperationFailedError,
  type OpsContext,
} from '../../shared/ops/index.ts';
import type { CliApp } from '../app.ts';
import { ExitCode } from '../errors.ts';
import { keyValues, shortTime, table } from '../format.ts';

/** Members listed in text; `--json` lists every one. */
const SHOWN_MEMBERS = 200;

function statesText(view: GroupView): string {
  return Object.entries(view.states)
    .map(([state, n]) => `${n} ${state}`)
    .join(', ');
}

export function describeGroup(view: GroupView): string {
  const chord = view.chord;
  const head = keyValues([
    ['group', view.groupId],
    ['kind', chord ? 'chord header' : 'group'],
    ['members', `${view.size}: ${statesText(view) || 'none'}`],
    ['completed', `${view.completed} of ${view.size} succeeded${view.ready ? '' : ' (not all ready)'}`],
    ['callback', chord ? `${chord.callbackTask} ${chord.callbackId}: ${chord.status}` : undefined],
    ['error', chord?.traceback],
    ['created', shortTime(view.dateCreated)],
  ]);
  // Failures first catch the eye in a long list: every member not SUCCESS is shown, then the rest.
  const shown = [
    ...view.members.filter((m) => m.status !== 'SUCCESS'),
    ...view.members.filter((m) => m.status === 'SUCCESS'),
  ]
    .slice(0, SHOWN_MEMBERS)
    .sort((a, b) => a.index - b.index);
  const rows = table(shown, [
    { header: '#', value: (m) => m.index },
    { header: 'ID', value: (m) => m.taskId },
    { header: 'TASK', value: (m) => m.taskName, max: 60 },
    { header: 'STATE', value: (m) => m.status },
    { header: 'DONE', value: (m) => shortTime(m.dateDone) },
    { header: 'ERROR', value: (m) => m.errorType },
  ]);
  const more = view.size - shown.length;
  return `${head}\n\n${rows}${more > 0 ? `\n… ${more} more succeeded (--json lists every member)` : ''}`;
}

/** 0 when every member (and a chord's callback) succeeded, 1 when one failed or was revoked, 1 when not ready. */
export function groupCode(view: GroupView): ExitCode {
  const failed = (view.states.FAILURE ?? 0) + (view.states.REVOKED ?? 0) > 0;
  const callbackFailed = view.chord !== undefined && ['FAILURE', 'REVOKED'].includes(view.chord.status);
  return failed || callbackFailed ? ExitCode.failed : ExitCode.ok;
}

/**
 * `celerity result GROUP_ID`: the group's members and their states, or undefined when no group
 * has that id. With `wait`, until every member is ready (`seconds`, 0 without end).
 */
export async function showGroup(
  app: CliApp,
  ctx: OpsContext,
  groupId: string,
  wait: { seconds: number } | undefined,
): Promise<ExitCode | undefined> {
  let view = await getGroupResult(ctx, groupId);
  if (!view) return undefined;
  if (wait && !view.ready) {
    app.note(
      `celerity: waiting ${wait.seconds > 0 ? `up to ${wait.seconds} s` : 'without a time limit'} for group ${groupId}: ${statesText(view)}`,
    );
    const end = Date.now() + wait.seconds * 1000;
    while (!view.ready) {
      if (wait.seconds > 0 && Date.now() >= end)
        throw new OperationFailedError(
          `gave up after ${wait.seconds} s waiting for group ${groupId}: ${statesText(view)} (--timeout N waits longer; 0 without end)`,
          { groupId, status: 'NOT_READY' },
        );
      await new Promise((resolve) => setTimeout(resolve, 1_000));
      view = (await getGroupResult(ctx, groupId)) ?? view;
    }
  }
  const shown = view;
  app.output(shown, () => describeGroup(shown));
  return groupCode(shown);
}
