import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SendMessageBatchCommand } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { inflightJournalOf, isAlive } from '../../localstack/dev/state-file.ts';
import { readJournal } from '../../localstack/event-sources/inflight-journal.ts';
import { createAwsClients } from '../../shared/aws/index.ts';
import { mapLimit } from '../../shared/batches.ts';
import { ConfigEnv } from '../../shared/config/env.ts';
import { encodeEnvelope } from '../../shared/envelope/index.ts';
import { callToEnvelope } from '../../shared/producer/index.ts';
import { ResultStore } from '../../shared/results/store.ts';
import { CRASH_TASK } from '../support/crash-task.ts';
import { groupAlive, useDevRuns } from '../support/dev-process.ts';
import { until } from '../support/until.ts';

/**
 * Issue #9, must-show 3: `npm run dev` killed with SIGKILL while 1,000 tasks are queued and about
 * 100 are in flight (received, their bodies running); the next `npm run dev` runs all 1,000 within
 * a minute, each once; after Ctrl-C no emulator is left. Without the takeover's return of what the
 * dead run held, the in-flight ones wait out the queue's visibility timeout (33 minutes).
 */
const TASKS = 1000;
const IN_FLIGHT = 100;
const { dir, stateFile, dev: devRun, ready, state } = useDevRuns('celerity-crash-');
const ledgerFile = join(dir, 'runs.log');

/** `npm run dev` with the crash test's task loaded; with `hold`, no body of it ever ends. */
const dev = (hold: boolean) =>
  devRun({
    imports: ['./test/support/crash-task.ts'],
    env: { CELERITY_CRASH_LEDGER: ledgerFile, CELERITY_CRASH_HOLD: hold ? '1' : '0' },
  });

/** Each line of the ledger: a body starting or ending, for which task, in which process. */
function ledger(): { what: string; taskId: string; pid: number }[] {
  if (!existsSync(ledgerFile)) return [];
  return readFileSync(ledgerFile, 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [what = '', taskId = '', pid = ''] = line.split(' ');
      return { what, taskId, pid: Number(pid) };
    });
}

describe.skipIf(Boolean(process.env.AWS_ENDPOINT_URL))('npm run dev killed mid-run with SIGKILL', () => {
  it('runs all 1,000 tasks after the restart, each once, within a minute; leaves no emulator after Ctrl-C', async () => {
    const first = dev(true);
    await ready(first);
    const before = state();
    const queueUrl = before.queues?.default?.url as string;
    const clients = createAwsClients({ endpoint: before.endpoint, region: before.region });
    const ids: string[] = [];
    const bodies: string[] = [];
    for (let i = 0; i < TASKS; i++) {
      const { envelope, body } = encodeEnvelope(callToEnvelope({ task: CRASH_TASK }, Date.now()));
      ids.push(envelope.id);
      bodies.push(body);
    }
    const chunks = Array.from({ length: TASKS / 10 }, (_, i) => bodies.slice(i * 10, i * 10 + 10));
    await mapLimit(chunks, 4, async (chunk) => {
      const sent = await clients.sqs.send(
        new SendMessageBatchCommand({
          QueueUrl: queueUrl,
          Entries: chunk.map((MessageBody, index) => ({ Id: String(index), MessageBody })),
        }),
      );
      expect(sent.Failed ?? []).toEqual([]);
    });

    // About 100 received and running (held), the rest queued: then the whole dev process dies.
    await until(
      `${IN_FLIGHT} bodies to be running`,
      async () => (ledger().filter((l) => l.what === 'start').length >= IN_FLIGHT ? true : undefined),
      120_000,
      50,
    );
    // The node process running dev.ts; tsx's launcher around it reaps it and exits.
    process.kill(before.pid, 'SIGKILL');
    await first.exited;
    const heldAtCrash = readJournal(inflightJournalOf(stateFile)).length;
    const startedAtCrash = ledger().filter((l) => l.what === 'start' && ids.includes(l.taskId)).length;
    expect(startedAtCrash).toBeGreaterThanOrEqual(IN_FLIGHT);
    expect(ledger().filter((l) => l.what === 'end')).toEqual([]);

    const restartedAt = Date.now();
    const second = dev(false);
    await ready(second);
    const readyAt = Date.now();
    const after = state();
    expect(after).toMatchObject({ endpoint: before.endpoint, emulatorPid: before.emulatorPid });
    expect(second.output()).toMatch(/in flight, returned at once/);

    const mine = new Set(ids);
    const ended = () =>
      new Set(ledger().flatMap((l) => (l.what === 'end' && mine.has(l.taskId) ? [l.taskId] : [])));
    // Issue #9 asks for a minute; the clock starts when the restarted run is ready to work. Past
    // it, the wait goes on (three minutes in all) so that the rest is still checked and the time it
    // took is reported: a drain slowed by the emulator is not a message waiting out a timeout.
    const allEnded = async () => (ended().size === TASKS ? true : undefined);
    const inTime = await until('every task to end', allEnded, 60_000, 250).catch(() => false);
    const endedInTime = ended().size;
    if (!inTime) await until('every task to end', allEnded, 120_000, 1000).catch(() => false);
    const seconds = ((Date.now() - readyAt) / 1000).toFixed(1);
    const figures =
      `${heldAtCrash} messages held and ${startedAtCrash} bodies running at the kill; after the restart ` +
      `${endedInTime} of ${TASKS} tasks ended within a minute of ready, ${ended().size} after ${seconds} s ` +
      `(the restart took ${((readyAt - restartedAt) / 1000).toFixed(1)} s to be ready)`;
    console.log(`crash test: ${figures}`);
    expect(ended().size, `${figures}; it said:\n${second.output()}`).toBe(TASKS);

    // Each once: one finished run per task, all in the second run; a body the crash cut short
    // started once in the first run and ran again, whole, once.
    const lines = ledger().filter((l) => mine.has(l.taskId));
    const count = (what: string, pid: number) => {
      const counts = new Map<string, number>();
      for (const l of lines)
        if (l.what === what && l.pid === pid) counts.set(l.taskId, (counts.get(l.taskId) ?? 0) + 1);
      return counts;
    };
    const ends = count('end', after.pid);
    const starts = count('start', after.pid);
    expect(ends.size).toBe(TASKS);
    expect([...ends.values()].every((n) => n === 1)).toBe(true);
    expect(starts.size).toBe(TASKS);
    expect([...starts.values()].every((n) => n === 1)).toBe(true);
    expect(lines.filter((l) => l.pid !== after.pid && l.pid !== before.pid)).toEqual([]);

    const store = new ResultStore({
      dynamo: clients.dynamo,
      table: after.environment[ConfigEnv.resultsTable] as string,
    });
    await until(
      'every row to read SUCCESS',
      async () => {
        const rows = await mapLimit(ids, 16, (id) => store.get(id).catch(() => undefined));
        return rows.every((row) => row?.status === 'SUCCESS' && row.retries === 0) ? true : undefined;
      },
      30_000,
      1000,
    );

    // Ctrl-C: the run stops its workers, then the emulator it took over, group and all.
    process.kill(after.pid, 'SIGINT');
    expect(await second.exited).toBe(0);
    await until(
      'the emulator to stop',
      async () => (isAlive(before.emulatorPid) || groupAlive(before.emulatorPid) ? undefined : true),
      15_000,
    );
    expect(existsSync(stateFile)).toBe(false);
    expect(existsSync(inflightJournalOf(stateFile))).toBe(false);
    expect(inTime, figures).toBe(true);
  }, 420_000);
});
