import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { createLogger, type Logger } from '../../shared/log.ts';
import type { BatchReport } from '../event-sources/sqs-poller.ts';
import type { StreamBatchReport } from '../event-sources/stream-types.ts';

/**
 * The local cloud's stand-in for CloudWatch Logs: one JSON line per entry, appended to
 * `<dir>/worker.log` (the SQS worker functions) and `<dir>/beat.log` (the beat-sync function, its
 * stream poller and the scheduler clock), which `celerity logs worker|beat [--follow]` reads.
 * Files take everything from `info` up (as a Lambda's log group would), whatever the terminal shows.
 */
export type LogStream = 'worker' | 'beat';

export const LOG_STREAMS: readonly LogStream[] = ['worker', 'beat'];

const LEVELS: Record<string, number> = { debug: 10, info: 20, warn: 30, warning: 30, error: 40, silent: 100 };

function rank(level: string | undefined, fallback: string): number {
  return LEVELS[(level ?? fallback).toLowerCase()] ?? (LEVELS[fallback] as number);
}

export interface LogSink {
  readonly dir: string;
  path(stream: LogStream): string;
  /** Appends one entry; a `time` is added when it has none. */
  append(stream: LogStream, entry: Record<string, unknown>): void;
  /**
   * A logger whose entries go to the stream's file (from `fileLevel` up) and to the terminal as
   * before (from `terminalLevel` up, the level the function would have had).
   */
  logger(
    stream: LogStream,
    base: Record<string, unknown>,
    levels: { terminalLevel?: string | undefined; fileLevel?: string },
  ): Logger;
  /**
   * Where the lines of the functions loaded in-process go (the process log writer): each to its
   * stream's file by the component that wrote it (from `fileLevel` up), and to the terminal from
   * `terminalLevel` up. Load the functions at `functionLevel` so the files get all they should.
   */
  functionLines(levels: {
    terminalLevel?: string | undefined;
    fileLevel?: string;
  }): (line: string, stream?: LogStream) => void;
  /** Flushes and closes the files. Idempotent. */
  close(): Promise<void>;
}

/** The LOG_LEVEL to load a function at when its lines go to both: the lower of the two thresholds. */
export function functionLevel(terminalLevel: string | undefined, fileLevel = 'info'): string {
  const lowest = Math.min(rank(terminalLevel ?? process.env.LOG_LEVEL, 'info'), rank(fileLevel, 'info'));
  return Object.keys(LEVELS).find((name) => LEVELS[name] === lowest) ?? 'info';
}

/** createLogger puts `level` right after `time`; reading it back beats a second threshold. */
function levelOf(line: string): number {
  return rank(/^\{"time":"[^"]*","level":"(\w+)"/.exec(line)?.[1], 'info');
}

/** Which file a loaded function's line belongs in, by the component its logger names. */
function streamOf(line: string): LogStream | undefined {
  if (line.includes('"component":"beat-sync"')) return 'beat';
  if (line.includes('"component":"worker"')) return 'worker';
  return undefined;
}

/** Opens (creating if need be) the log files under `dir`, appending to what is there. */
export function createLogSink(dir: string): LogSink {
  mkdirSync(dir, { recursive: true });
  const files = new Map<LogStream, WriteStream>();
  let closed = false;
  const file = (stream: LogStream): WriteStream | undefined => {
    if (closed) return undefined;
    let out = files.get(stream);
    if (!out) {
      out = createWriteStream(join(dir, `${stream}.log`), { flags: 'a' });
      // A full disk or a removed directory must not take the local cloud down with it.
      out.on('error', (error) => console.error(`log sink ${stream}: ${error.message}`));
      files.set(stream, out);
    }
    return out;
  };
  const writeLine = (stream: LogStream, line: string) => file(stream)?.write(`${line}\n`);
  const functionLines: LogSink['functionLines'] = (levels) => {
    const terminal = rank(levels.terminalLevel ?? process.env.LOG_LEVEL, 'info');
    const fileRank = rank(levels.fileLevel, 'info');
    return (line, stream = streamOf(line)) => {
      const r = levelOf(line);
      if (stream && r >= fileRank) writeLine(stream, line);
      if (r >= terminal) process.stdout.write(`${readableLine(line)}\n`);
    };
  };
  return {
    dir,
    path: (stream) => join(dir, `${stream}.log`),
    append(stream, entry) {
      writeLine(stream, JSON.stringify({ time: new Date().toISOString(), ...entry }));
    },
    logger(stream, base, levels) {
      const write = functionLines(levels);
      return createLogger(base, {
        level: functionLevel(levels.terminalLevel, levels.fileLevel),
        write: (line) => write(line, stream),
      });
    },
    functionLines,
    async close() {
      if (closed) return;
      closed = true;
      await Promise.all(
        [...files.values()].map((out) => new Promise<void>((resolve) => out.end(() => resolve()))),
      );
    },
  };
}

/** The level an invocation's line is written at: a record left undone is never just `info`. */
export function invocationLevel(
  outcome: BatchReport['outcome'] | StreamBatchReport['outcome'],
): 'info' | 'warn' | 'error' {
  return outcome === 'success' ? 'info' : outcome === 'partial' ? 'warn' : 'error';
}

/** The task id a message body names, read loosely: a body too broken to run may still say whose it is. */
function taskIdOf(body: string): string | undefined {
  try {
    const id = (JSON.parse(body) as { id?: unknown } | null)?.id;
    return typeof id === 'string' ? id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * One line per invocation, like Lambda's REPORT line: the function's own entries say what each
 * task did, this says how the invocation went. When records go back to the queue it names them
 * (message ids and the task ids their bodies carry) and says why.
 */
export function invocationFields(report: BatchReport | StreamBatchReport): Record<string, unknown> {
  const returned = 'returned' in report ? report.returned : [];
  const taskIds = returned.map((r) => taskIdOf(r.body)).filter((id): id is string => id !== undefined);
  const cause = 'cause' in report ? report.cause : undefined;
  return {
    requestId: report.requestId,
    outcome: report.outcome,
    ...(cause ? { cause } : report.error ? { error: report.error.message } : {}),
    records: 'messageIds' in report ? report.messageIds.length : report.sequenceNumbers.length,
    failed: report.failed.length,
    durationMs: report.durationMs,
    ...(returned.length > 0 ? { messageIds: returned.map((r) => r.messageId) } : {}),
    ...(taskIds.length > 0 ? { taskIds } : {}),
    ...(report.outcome === 'crash' || report.outcome === 'timeout'
      ? { note: 'the in-process run may go on; nothing it sends or logs from now on counts' }
      : {}),
  };
}

export function invocationEntry(
  base: Record<string, unknown>,
  report: BatchReport | StreamBatchReport,
): Record<string, unknown> {
  return {
    level: invocationLevel(report.outcome),
    message: 'invocation',
    ...base,
    ...invocationFields(report),
  };
}

const LEAD_FIELDS = new Set(['time', 'level', 'message', 'component', 'function']);

/**
 * A log line as a person reads it on a terminal: time, level, what happened, then the fields
 * that say which task (`task=apps.x.y taskId=… state=FAILURE error=…`). The files keep the JSON.
 */
export function readableLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const time = typeof entry.time === 'string' ? entry.time.slice(11, 19) : '';
  const level = String(entry.level ?? 'info')
    .toUpperCase()
    .padEnd(5);
  const where = [entry.component, entry.route].filter(Boolean).join('/');
  const fields = Object.entries(entry)
    .filter(([key]) => !LEAD_FIELDS.has(key) && key !== 'route')
    .map(([key, value]) => `${key}=${readableValue(value)}`)
    .join(' ');
  return `${time} ${level} ${where ? `[${where}] ` : ''}${String(entry.message ?? '')}${fields ? `  ${fields}` : ''}`;
}

/** How many items of a list a terminal line shows; the file keeps them all. */
const LIST_SHOWN = 10;

function readableValue(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((item) => typeof item === 'string' || typeof item === 'number')) {
    const more = value.length > LIST_SHOWN ? ` (+${value.length - LIST_SHOWN} more)` : '';
    return `${value.slice(0, LIST_SHOWN).join(',')}${more}`;
  }
  return JSON.stringify(value);
}
