import { appendFileSync, existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '@aws-sdk/client-sqs';
import { describe, expect, it } from 'vitest';
import { inflightJournalOf } from '../../localstack/dev/state-file.ts';
import { InflightJournal, readJournal } from '../../localstack/event-sources/inflight-journal.ts';

const dir = mkdtempSync(join(tmpdir(), 'celerity-journal-'));
const Q1 = 'http://127.0.0.1:1/000000000000/default';
const Q2 = 'http://127.0.0.1:1/000000000000/heavy';

function message(n: number, handle = `handle-${n}`): Message {
  return { MessageId: `m${n}`, ReceiptHandle: handle, Body: JSON.stringify({ v: 1, id: `task-${n}` }) };
}

describe('the in-flight journal', () => {
  it('leaves behind, as a killed run would, exactly what is held: received and not let go', () => {
    const file = join(dir, 'held.jsonl');
    const journal = new InflightJournal(file);
    journal.held(Q1, [message(1), message(2), message(3)]);
    journal.held(Q2, [message(4), { MessageId: 'm5', ReceiptHandle: 'handle-5', Body: 'not json' }]);
    journal.letGo(Q1, [message(2)]);
    // Seen again (a window longer than its visibility): the newer handle is the one to use.
    journal.held(Q1, [message(3, 'handle-3-again')]);
    // No close(): the process died here.
    expect(readJournal(file)).toEqual([
      { queueUrl: Q1, messageId: 'm1', receiptHandle: 'handle-1', taskId: 'task-1' },
      { queueUrl: Q1, messageId: 'm3', receiptHandle: 'handle-3-again', taskId: 'task-3' },
      { queueUrl: Q2, messageId: 'm4', receiptHandle: 'handle-4', taskId: 'task-4' },
      { queueUrl: Q2, messageId: 'm5', receiptHandle: 'handle-5' },
    ]);
  });

  it('skips a line the crash cut short, and keeps the lines before it', () => {
    const file = join(dir, 'torn.jsonl');
    new InflightJournal(file).held(Q1, [message(1)]);
    appendFileSync(file, '{"h":[[0,"m2","hand');
    expect(readJournal(file).map((h) => h.messageId)).toEqual(['m1']);
  });

  it('stays about the size of what is held over many messages, by rewriting itself whole', () => {
    const file = join(dir, 'long.jsonl');
    const journal = new InflightJournal(file);
    for (let n = 0; n < 30_000; n += 10) {
      const batch = Array.from({ length: 10 }, (_, i) => message(n + i));
      journal.held(Q1, batch);
      if (n < 29_000) journal.letGo(Q1, batch);
    }
    expect(readJournal(file)).toHaveLength(1000);
    expect(journal.size).toBe(1000);
    expect(readFileSync(file, 'utf8').split('\n').length).toBeLessThan(7000);
    journal.close();
    expect(existsSync(file)).toBe(false);
    expect(readJournal(file)).toEqual([]);
  });

  it('sits beside the state file, named after it', () => {
    expect(inflightJournalOf('/p/.celerity/local.json')).toBe('/p/.celerity/local.inflight.jsonl');
    expect(inflightJournalOf('/tmp/second.json')).toBe('/tmp/second.inflight.jsonl');
  });
});
