import { describe, expect, it } from 'vitest';
import type { CeleryOutcome, CeleryResultWriter } from '../../shared/celery/result-backend.ts';
import { encodeEnvelope } from '../../shared/envelope/index.ts';
import type { TaskResultRecord } from '../../shared/results/record.ts';
import { mirrorCeleryOutcomes } from '../../shared/worker/celery-mirror.ts';
import { BatchLedger } from '../../shared/worker/ledger.ts';
import type { Work } from '../../shared/worker/work.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

function work(id: string, celery: boolean): Work {
  const { envelope } = encodeEnvelope({
    v: 1,
    id,
    task: 'apps.demo.tasks.add',
    parentId: 'parent-1',
    ...(celery ? { celery: { protocol: 2 } } : {}),
  });
  return { record: { messageId: `m-${id}` }, envelope } as unknown as Work;
}

const row = (taskId: string, status: string): TaskResultRecord => ({ taskId, status, result: '1' });

/** The rows `completeAll` reports written: those of the ledger's completions for these messages. */
function rowsOf(ledger: BatchLedger, messageIds: readonly string[]): Map<string, TaskResultRecord> {
  return new Map(
    ledger.completions
      .filter((c) => messageIds.includes(c.messageId))
      .map((c) => [c.messageId, c.completion.record]),
  );
}

/** A writer that fails the ids it is told to, and keeps what it was given. */
function writer(failing: string[] = []) {
  const given: CeleryOutcome[] = [];
  const fake = {
    async writeOutcomes(outcomes: readonly CeleryOutcome[]) {
      given.push(...outcomes);
      return new Set(outcomes.map((o) => o.record.taskId).filter((id) => failing.includes(id)));
    },
  } as unknown as CeleryResultWriter;
  return { fake, given };
}

describe("the worker's Celery result items", () => {
  it('writes the outcomes of Celery tasks whose rows were written, with their parent id, and no others', async () => {
    const ledger = new BatchLedger();
    const ran = [work('c-ok', true), work('c-retry', true), work('own', false), work('c-refused', true)];
    ledger.record('m-c-ok', { record: row('c-ok', 'SUCCESS'), heldBy: 'lease' });
    ledger.record('m-c-retry', { record: row('c-retry', 'RETRY'), heldBy: 'lease' });
    ledger.record('m-own', { record: row('own', 'SUCCESS'), heldBy: 'lease' });
    // Its row was not written (another run or a revoke held it): nothing to mirror.
    ledger.record('m-c-refused', { record: row('c-refused', 'SUCCESS'), heldBy: 'lease' });
    const { fake, given } = writer();
    await mirrorCeleryOutcomes(
      fake,
      { ran, finished: [], written: rowsOf(ledger, ['m-c-ok', 'm-c-retry', 'm-own']) },
      ledger,
      quiet,
    );
    expect(given.map((o) => [o.record.taskId, o.record.status, o.links?.parentId])).toEqual([
      ['c-ok', 'SUCCESS', 'parent-1'],
      ['c-retry', 'RETRY', 'parent-1'],
    ]);
    expect(ledger.returned.size).toBe(0);
  });

  it('gives back a ready outcome whose item failed, not a RETRY nor a refused message', async () => {
    const ledger = new BatchLedger();
    ledger.record('m-c-ok', { record: row('c-ok', 'FAILURE'), heldBy: 'lease' });
    ledger.record('m-c-retry', { record: row('c-retry', 'RETRY'), heldBy: 'lease' });
    ledger.record('m-pickle', { record: { ...row('pickle', 'FAILURE'), poison: true } });
    ledger.record('m-other-poison', { record: { ...row('other', 'FAILURE'), poison: true } });
    const { fake, given } = writer(['c-ok', 'c-retry', 'pickle']);
    await mirrorCeleryOutcomes(
      fake,
      {
        ran: [work('c-ok', true), work('c-retry', true)],
        finished: [],
        written: rowsOf(ledger, ['m-c-ok', 'm-c-retry', 'm-pickle', 'm-other-poison']),
        poison: new Set(['m-pickle']),
      },
      ledger,
      quiet,
    );
    expect(given.map((o) => o.record.taskId)).toEqual(['c-ok', 'c-retry', 'pickle']);
    expect([...ledger.returned.keys()]).toEqual(['m-c-ok']);
  });

  it("writes a redelivered finished Celery task's item from its row, and gives it back if that fails", async () => {
    const ledger = new BatchLedger();
    const again = { ...work('c-done', true), finishedRow: row('c-done', 'SUCCESS') };
    const { fake, given } = writer(['c-done']);
    await mirrorCeleryOutcomes(fake, { ran: [], finished: [again], written: new Map() }, ledger, quiet);
    expect(given.map((o) => o.record)).toEqual([row('c-done', 'SUCCESS')]);
    expect([...ledger.returned.keys()]).toEqual(['m-c-done']);
  });

  it('writes nothing for a Celery call made with ignore_result=True', async () => {
    const ledger = new BatchLedger();
    const ignored = work('c-ignored', true);
    (ignored.envelope.celery as Record<string, unknown>).ignoreResult = true;
    ledger.record('m-c-ignored', { record: row('c-ignored', 'SUCCESS'), heldBy: 'lease' });
    const { fake, given } = writer();
    await mirrorCeleryOutcomes(
      fake,
      { ran: [ignored], finished: [], written: rowsOf(ledger, ['m-c-ignored']) },
      ledger,
      quiet,
    );
    expect(given).toEqual([]);
  });

  it('writes REVOKED for a Celery task revoked while it ran (the row that refused its outcome)', async () => {
    const ledger = new BatchLedger();
    ledger.record('m-c-revoked', { record: row('c-revoked', 'SUCCESS'), heldBy: 'lease' });
    const { fake, given } = writer();
    const revoked = new Map([['m-c-revoked', { taskId: 'c-revoked', status: 'REVOKED' }]]);
    await mirrorCeleryOutcomes(
      fake,
      { ran: [work('c-revoked', true)], finished: [], written: revoked },
      ledger,
      quiet,
    );
    expect(given.map((o) => o.record.status)).toEqual(['REVOKED']);
  });

  it('does nothing without the Celery layout', async () => {
    const ledger = new BatchLedger();
    ledger.record('m-c-ok', { record: row('c-ok', 'SUCCESS'), heldBy: 'lease' });
    await mirrorCeleryOutcomes(
      undefined,
      { ran: [work('c-ok', true)], finished: [], written: rowsOf(ledger, ['m-c-ok']) },
      ledger,
      quiet,
    );
    expect(ledger.returned.size).toBe(0);
  });
});
