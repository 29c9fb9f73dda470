/**
 * A chord of no-op members through the local cloud (the worker handler under the poller, against
 * the emulator): the time from the fan-out (the group's record written, its members sent) to the
 * callback's body running, and the AWS requests that cost per member, counted on the clients.
 */
import { randomUUID } from 'node:crypto';
import { startLocalCloud } from '../localstack/local-cloud.ts';
import { createResultStore } from '../shared/app.ts';
import { applyGroup } from '../shared/canvas/group-apply.ts';
import { defineTask } from '../shared/task/define.ts';
import { defaultRegistry } from '../shared/task/registry.ts';

export interface ChordFigures {
  members: number;
  /** From `applyGroup` called to the callback's body running. */
  fanOutToCallbackMs: number;
  /** Of which the fan-out itself: the record written and every member sent. */
  fanOutMs: number;
  /** Requests of the whole chord (fan-out, members run, counted, callback sent and run), per member. */
  requestsPerMember: number;
  /** The same, by operation, per member. */
  requests: Record<string, number>;
}

const MEMBER = 'bench.chord.noop';
const CALLBACK = 'bench.chord.callback';
let called: ((results: unknown[]) => void) | undefined;
if (!defaultRegistry.has(MEMBER)) {
  defineTask(MEMBER, (_ctx, i: number) => i);
  defineTask(CALLBACK, (_ctx, results: unknown[]) => {
    called?.(results);
    return results.length;
  });
}

export async function measureChord(members = 1_000): Promise<ChordFigures> {
  const cloud = await startLocalCloud({ logLevel: 'silent', streams: false, clock: false });
  try {
    const store = createResultStore({ config: cloud.config, clients: cloud.clients });
    const callbackRan = new Promise<unknown[]>((resolve) => {
      called = resolve;
    });
    cloud.clients.requests.reset();
    const t0 = performance.now();
    await applyGroup(
      { producer: cloud.producer, store, resultExpires: cloud.config.resultExpires },
      {
        groupId: randomUUID(),
        members: Array.from({ length: members }, (_, i) => ({ task: MEMBER, id: randomUUID(), args: [i] })),
        callback: { task: CALLBACK, id: randomUUID() },
      },
    );
    const fanOutMs = performance.now() - t0;
    const results = await callbackRan;
    const fanOutToCallbackMs = performance.now() - t0;
    if (results.length !== members)
      throw new Error(`the callback got ${results.length} results, not ${members}`);
    const total = cloud.clients.requests.total;
    const byOp = cloud.clients.requests.snapshot();
    return {
      members,
      fanOutToCallbackMs,
      fanOutMs,
      requestsPerMember: total / members,
      requests: Object.fromEntries(Object.entries(byOp).map(([op, n]) => [op, n / members])),
    };
  } finally {
    called = undefined;
    await cloud.stop();
  }
}
