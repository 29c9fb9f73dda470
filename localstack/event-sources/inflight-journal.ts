import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import { ChangeMessageVisibilityBatchCommand, type Message, type SQSClient } from '@aws-sdk/client-sqs';
import { createLogger } from '../../shared/log.ts';

/** One message a poller received and has not yet deleted, returned or released. */
export interface HeldMessage {
  queueUrl: string;
  messageId: string;
  receiptHandle: string;
  /** The envelope's id, when the body has one: the row whose lease the crashed run held. */
  taskId?: string;
}

/** What one poller tells the journal of the handles it holds; `SqsPoller` calls these and nothing else. */
export interface PollerHooks {
  /** Sent with each receive in place of the queue's visibility timeout: see `keepHandles`. */
  readonly receiveVisibilitySeconds: number;
  /** Received: resolves to the messages whose handles are written and which are hidden for the run. */
  held(messages: readonly Message[]): Promise<Message[]>;
  /** Deleted, returned to the queue by the function, or released: no longer this run's to return. */
  letGo(messages: readonly Message[]): void;
}

/**
 * How long a message received stays hidden before its handle is written and its visibility set to
 * the queue's own: a run killed while a receive is answered (moto has hidden the messages, the
 * process never saw their handles) leaves them hidden this long rather than the visibility timeout.
 */
export const UNTIL_WRITTEN_SECONDS = 30;

const log = createLogger({ component: 'inflight-journal' }, { level: process.env.LOG_LEVEL ?? 'warn' });

/** Lines appended between rewrites, beyond the ones still needed. */
const COMPACT_AFTER = 5000;

type Line = { h: [number, string, string, string?][] } | { g: [number, string][] } | { q: string[] };

/**
 * The receipt handles the local cloud's pollers hold, kept in a file under `.celerity/` so that a
 * run killed with SIGKILL leaves them behind and the next run can make those messages visible at
 * once, rather than after the queue's visibility timeout (33 to 90 minutes in the stack).
 *
 * Cheap at hundreds of messages a second: one append per receive (up to ten messages) and one per
 * finished invocation, each a single `write` to a file opened for appending, which the kernel keeps
 * through the death of the process. A line cut short by a crash is skipped when read. The file is
 * rewritten (a new file renamed over it) only when the lines no longer needed outnumber a few
 * thousand, so it stays about the size of what is held.
 */
export class InflightJournal {
  readonly file: string;
  readonly #held = new Map<string, HeldMessage>();
  readonly #queues = new Map<string, number>();
  #fd: number;
  #lines = 0;

  /** Starts an empty journal at `file` (what an earlier run left must have been read first). */
  constructor(file: string) {
    this.file = file;
    this.#fd = openSync(file, 'w');
  }

  get size(): number {
    return this.#held.size;
  }

  held(queueUrl: string, messages: readonly Message[]): void {
    if (messages.length === 0) return;
    const queue = this.#queue(queueUrl);
    const entries: [number, string, string, string?][] = [];
    for (const m of messages) {
      if (!m.MessageId || !m.ReceiptHandle) continue;
      const taskId = taskIdOf(m.Body);
      // A message seen again (a batching window longer than its visibility) keeps the newer handle.
      this.#held.set(`${queue} ${m.MessageId}`, {
        queueUrl,
        messageId: m.MessageId,
        receiptHandle: m.ReceiptHandle,
        ...(taskId ? { taskId } : {}),
      });
      entries.push(
        taskId ? [queue, m.MessageId, m.ReceiptHandle, taskId] : [queue, m.MessageId, m.ReceiptHandle],
      );
    }
    this.#append({ h: entries });
  }

  letGo(queueUrl: string, messages: readonly Message[]): void {
    const queue = this.#queues.get(queueUrl);
    if (queue === undefined || messages.length === 0) return;
    const entries: [number, string][] = [];
    for (const m of messages) {
      if (m.MessageId && this.#held.delete(`${queue} ${m.MessageId}`)) entries.push([queue, m.MessageId]);
    }
    if (entries.length > 0) this.#append({ g: entries });
    if (this.#lines > COMPACT_AFTER + this.#held.size) this.#compact();
  }

  /** The run stopped as it should: nothing is held, and the file goes. */
  close(): void {
    closeSync(this.#fd);
    rmSync(this.file, { force: true });
  }

  #queue(queueUrl: string): number {
    let index = this.#queues.get(queueUrl);
    if (index === undefined) {
      index = this.#queues.size;
      this.#queues.set(queueUrl, index);
      this.#append({ q: [queueUrl] });
    }
    return index;
  }

  #append(line: Line): void {
    writeSync(this.#fd, `${JSON.stringify(line)}\n`);
    this.#lines++;
  }

  /** A new file with only what is still held, renamed over the old one: whole or not at all. */
  #compact(): void {
    const temporary = `${this.file}.tmp`;
    const fd = openSync(temporary, 'w');
    const urls = [...this.#queues.keys()];
    let text = `${JSON.stringify({ q: urls })}\n`;
    const entries = [...this.#held.values()].map((h) => {
      const queue = this.#queues.get(h.queueUrl) as number;
      return h.taskId
        ? [queue, h.messageId, h.receiptHandle, h.taskId]
        : [queue, h.messageId, h.receiptHandle];
    });
    if (entries.length > 0) text += `${JSON.stringify({ h: entries })}\n`;
    writeSync(fd, text);
    renameSync(temporary, this.file);
    closeSync(this.#fd);
    this.#fd = fd;
    this.#lines = entries.length > 0 ? 2 : 1;
  }
}

/** The envelope's `id`, read without checking the rest: the worker judges the body, not this. */
function taskIdOf(body: string | undefined): string | undefined {
  if (!body) return undefined;
  try {
    const id = (JSON.parse(body) as { id?: unknown }).id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/** What a journal left by an earlier run says is still held; empty when there is none. */
export function readJournal(file: string): HeldMessage[] {
  if (!existsSync(file)) return [];
  const urls: string[] = [];
  const held = new Map<string, HeldMessage>();
  for (const text of readFileSync(file, 'utf8').split('\n')) {
    let line: Line;
    try {
      line = JSON.parse(text) as Line;
    } catch {
      continue; // empty, or cut short by the crash
    }
    if ('q' in line) urls.push(...line.q);
    else if ('h' in line) {
      for (const [queue, messageId, receiptHandle, taskId] of line.h) {
        const queueUrl = urls[queue];
        if (queueUrl === undefined) continue;
        held.set(`${queue} ${messageId}`, {
          queueUrl,
          messageId,
          receiptHandle,
          ...(taskId ? { taskId } : {}),
        });
      }
    } else if ('g' in line) for (const [queue, messageId] of line.g) held.delete(`${queue} ${messageId}`);
  }
  return [...held.values()];
}

/**
 * One poller's hooks: receives hide a message for `UNTIL_WRITTEN_SECONDS`; once its handle is in
 * the journal it is hidden for `visibilitySeconds` (the queue's timeout, as Lambda's poller leaves
 * it). A message whose visibility cannot be set is not run: it is let go, and comes back soon.
 */
export function keepHandles(
  journal: InflightJournal,
  sqs: SQSClient,
  queueUrl: string,
  visibilitySeconds: number,
): PollerHooks {
  return {
    receiveVisibilitySeconds: Math.min(UNTIL_WRITTEN_SECONDS, visibilitySeconds),
    async held(messages) {
      if (messages.length === 0) return [];
      journal.held(queueUrl, messages);
      if (visibilitySeconds <= UNTIL_WRITTEN_SECONDS) return [...messages];
      let failed = new Set<string>();
      try {
        const response = await sqs.send(
          new ChangeMessageVisibilityBatchCommand({
            QueueUrl: queueUrl,
            Entries: messages.map((m, index) => ({
              Id: String(index),
              ReceiptHandle: m.ReceiptHandle as string,
              VisibilityTimeout: visibilitySeconds,
            })),
          }),
        );
        failed = new Set((response.Failed ?? []).map((f) => f.Id as string));
        for (const f of response.Failed ?? [])
          log.debug('could not hide a received message', { code: f.Code });
      } catch (error) {
        journal.letGo(queueUrl, messages);
        throw error;
      }
      const kept = messages.filter((_, index) => !failed.has(String(index)));
      journal.letGo(
        queueUrl,
        messages.filter((_, index) => failed.has(String(index))),
      );
      return kept;
    },
    letGo(messages) {
      journal.letGo(queueUrl, messages);
    },
  };
}
