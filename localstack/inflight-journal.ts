import { closeSync, existsSync, openSync, readFileSync, renameSync, rmSync, writeSync } from 'node:fs';
import type { Message } from '@aws-sdk/client-sqs';

/** One message a poller received and has not yet deleted, returned or released. */
export interface HeldMessage {
  queueUrl: string;
  messageId: string;
  receiptHandle: string;
  /** The envelope's id, when the body has one: the row whose lease the crashed run held. */
  taskId?: string;
}

/** What the pollers tell the journal; `SqsPoller` calls these and nothing else. */
export interface InflightHooks {
  /** Received: the poller holds these handles until it lets go of them. */
  held(queueUrl: string, messages: readonly Message[]): void;
  /** Deleted, returned to the queue by the function, or released: no longer this run's to return. */
  letGo(queueUrl: string, messages: readonly Message[]): void;
}

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
export class InflightJournal implements InflightHooks {
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
