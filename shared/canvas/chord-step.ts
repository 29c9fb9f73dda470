import { mapLimit } from '../batches.ts';
import { TaskState } from '../task/states.ts';
import { dependencyError, failCallback, fireChord } from './chord-fire.ts';
import { addShard, CHORD_SHARD_SIZE, countMembers, markShardAdded, shardCount } from './chord-store.ts';
import type { FinishedTask, FollowUpDeps, FollowUpStep } from './follow-ups.ts';
import { type ChordItem, chordKey, getItems } from './group-store.ts';

/** Shards counted at once for one batch (a batch of 100 members may touch many). */
const CONCURRENCY = 4;

/** The finished members of one chord that fall in one counter shard. */
interface ShardWork {
  chordId: string;
  shard: number;
  size: number;
  members: FinishedTask[];
}

function byShard(finished: readonly FinishedTask[]): ShardWork[] {
  const shards = new Map<string, ShardWork>();
  for (const f of finished) {
    const group = f.envelope.group;
    if (group?.chord !== true) continue;
    const shard = Math.floor(group.index / CHORD_SHARD_SIZE);
    const key = `${group.id}#${shard}`;
    const work = shards.get(key) ?? { chordId: group.id, shard, size: group.size, members: [] };
    work.members.push(f);
    shards.set(key, work);
  }
  return [...shards.values()];
}

const failedOrRevoked = (f: FinishedTask) =>
  f.record.status === TaskState.FAILURE || f.record.status === TaskState.REVOKED;

/**
 * A member that failed or was revoked settles the chord at once, as Celery's does: the callback
 * becomes a `ChordError` FAILURE without waiting for the other members.
 */
async function failEarly(work: ShardWork, deps: FollowUpDeps): Promise<void> {
  const failed = work.members
    .filter(failedOrRevoked)
    .sort((a, b) => (a.envelope.group?.index ?? 0) - (b.envelope.group?.index ?? 0))[0];
  if (!failed) return;
  const chord = (await getItems(deps.store.dynamo, deps.store.table, [chordKey(work.chordId)])).get(
    chordKey(work.chordId),
  ) as ChordItem | undefined;
  if (!chord) {
    deps.log.warn('a chord member failed, but the chord has no record (expired?)', { chord: work.chordId });
    return;
  }
  // Settled already (its callback failed and its errbacks went): a storm of failing members reads
  // the record, which a key takes thrice as fast as writes, rather than writing the callback's row.
  if (chord.settledAt !== undefined) return;
  await failCallback(deps, chord, dependencyError(failed.record));
}

async function countShard(work: ShardWork, deps: FollowUpDeps): Promise<void> {
  await failEarly(work, deps);
  const { store, config, log } = deps;
  const expiresAt = Math.floor(Date.now() / 1000) + config.resultExpires;
  const indexes = work.members.map((f) => f.envelope.group?.index ?? 0);
  const { counted, added: before } = await countMembers(store.dynamo, store.table, {
    ...work,
    indexes,
    expiresAt,
  });
  const whole = shardCount(work.size, work.shard);
  if (counted < whole) return;
  if (counted > whole) {
    log.error('a chord shard counts more members than it holds; its callback is not sent', {
      chord: work.chordId,
      shard: work.shard,
      counted,
      whole,
    });
    return;
  }
  // Its shard is on the record already (this member came again): nothing more to do here.
  if (before) return;
  const added = await addShard(store.dynamo, store.table, work.chordId, work.shard);
  if (!added) {
    log.warn('a chord shard is whole, but the chord has no record (expired?)', { chord: work.chordId });
    return;
  }
  const { chord, shardsDone, settled } = added;
  if (chord.size !== work.size || chord.shardSize !== CHORD_SHARD_SIZE) {
    log.error("a chord member's group size or shard size differs from the chord's record; not counted", {
      chord: work.chordId,
      size: work.size,
      recorded: chord.size,
    });
    return;
  }
  if (shardsDone === chord.shards && !settled) await fireChord(deps, chord);
  // Only now: had the callback's send failed, this member's next delivery must come this far again.
  await markShardAdded(store.dynamo, store.table, work.chordId, work.shard);
}

/**
 * The chord step of the worker's follow-ups: counts each finished member of a chord header in its
 * shard, and the member that completes the count sends the callback. Every part is idempotent
 * (a redelivered member is counted once; the callback's id is fixed, so a second send is a no-op
 * for the worker), so a message whose shard could not be counted is given back and comes again.
 */
export const chordStep: FollowUpStep = async (finished, deps) => {
  const unfinished = new Map<string, string>();
  await mapLimit(byShard(finished), CONCURRENCY, async (work) => {
    try {
      await countShard(work, deps);
    } catch (error) {
      const why = `chord ${work.chordId} not counted: ${error instanceof Error ? `${error.name}: ${error.message}` : String(error)}`;
      deps.log.warn('chord members not counted; their messages come again', {
        chord: work.chordId,
        error: why,
      });
      for (const f of work.members) unfinished.set(f.messageId, why);
    }
  });
  return unfinished;
};
