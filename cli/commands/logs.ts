import { closeSync, existsSync, openSync, readSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Command } from 'commander';
import { filterLogGroups, type LogEntry, parseLogLine } from '../../shared/ops/logs.ts';
import type { CliApp } from '../app.ts';
import { ExitCode, TargetUnreachableError, UsageError } from '../errors.ts';
import { parseNumber, parseSince } from '../parse.ts';
import type { LogSource } from '../target.ts';

const COMPONENTS = ['worker', 'beat'] as const;
type Component = (typeof COMPONENTS)[number];

/** Fields shown first, in this order; the rest follow as key=value. */
const LEADING = ['taskId', 'task', 'state', 'runtimeMs', 'error'];

/** One readable line: `09:00:05.120 INFO  worker  task succeeded  taskId=... task=... runtimeMs=12`. */
export function formatEntry(entry: LogEntry): string {
  const time = entry.time.replace(/^\d{4}-\d{2}-\d{2}T/, '').replace(/Z$/, '');
  const keys = [
    ...LEADING.filter((k) => k in entry.fields),
    ...Object.keys(entry.fields).filter((k) => !LEADING.includes(k)),
  ];
  const fields = keys.map((k) => {
    const v = entry.fields[k];
    return `${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`;
  });
  return [time, entry.level.toUpperCase().padEnd(5), entry.component ?? '', entry.message, ...fields]
    .filter((p) => p !== '')
    .join('  ');
}

/** Reads what was appended to a file since `offset`; a file cut shorter (rotated) is read from its start. */
function readFrom(file: string, offset: number): { text: string; offset: number } {
  if (!existsSync(file)) return { text: '', offset: 0 };
  const size = statSync(file).size;
  const start = size < offset ? 0 : offset;
  if (size === start) return { text: '', offset: start };
  const buffer = Buffer.alloc(size - start);
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buffer, 0, buffer.length, start);
  } finally {
    closeSync(fd);
  }
  // Only whole lines: a line being written is read on the next sweep.
  const text = buffer.toString('utf8');
  const end = text.lastIndexOf('\n') + 1;
  return { text: text.slice(0, end), offset: start + Buffer.byteLength(text.slice(0, end)) };
}

export function registerLogCommands(program: Command, app: CliApp): void {
  program
    .command('logs')
    .description('worker or beat logs: the local cloud files, or CloudWatch Logs of a stack')
    .argument('<component>', COMPONENTS.join(' or '))
    .option('--follow', 'keep printing new lines until Ctrl-C')
    .option('--since <when>', 'from: 30s, 15m, 2h, 7d, or an ISO date-time', '1h')
    .option('--limit <n>', 'at most this many lines before following', '200')
    .option('--task-id <id>', 'only lines about this task')
    .action(
      app.action(
        async (
          component: string,
          options: { follow?: boolean; since: string; limit: string; taskId?: string },
        ) => {
          if (!(COMPONENTS as readonly string[]).includes(component)) {
            throw new UsageError(`COMPONENT: must be ${COMPONENTS.join(' or ')} (got ${component})`);
          }
          const since = parseSince('--since', options.since);
          const limit = parseNumber('--limit', options.limit, { min: 1, integer: true });
          const target = await app.target();
          const keep = (e: LogEntry) =>
            (!options.taskId || e.fields.taskId === options.taskId) &&
            (!e.time || Date.parse(e.time) >= since.getTime());
          const emit = (entries: LogEntry[]) => {
            for (const e of entries.filter(keep))
              app.print(app.json ? JSON.stringify(rawOf(e)) : formatEntry(e));
          };
          const sweep = sweeper(target.logs, component as Component, since.getTime(), limit);
          emit(await sweep(true));
          while (options.follow) {
            await sleep(target.logs.kind === 'files' ? 500 : 2000);
            emit(await sweep(false));
          }
          return ExitCode.ok;
        },
      ),
    );
}

/** The line as the logger wrote it (for `--json`: one object a line, like the file). */
function rawOf(e: LogEntry): Record<string, unknown> {
  return {
    time: e.time,
    level: e.level,
    message: e.message,
    ...(e.component ? { component: e.component } : {}),
    ...e.fields,
  };
}

function sweeper(source: LogSource, component: Component, since: number, limit: number) {
  if (source.kind === 'files') {
    const file = join(source.dir, `${component}.log`);
    let offset = 0;
    return async (first: boolean): Promise<LogEntry[]> => {
      if (first && !existsSync(file)) {
        throw new TargetUnreachableError(
          `no ${component} log at ${file}: does this local cloud write logs? (restart \`npm run dev\`)`,
        );
      }
      const read = readFrom(file, offset);
      offset = read.offset;
      const entries = read.text.split('\n').flatMap((line) => parseLogLine(line, undefined, file) ?? []);
      return first ? entries.filter((e) => !e.time || Date.parse(e.time) >= since).slice(-limit) : entries;
    };
  }
  const groups = component === 'worker' ? source.worker : source.beat;
  if (groups.length === 0)
    throw new TargetUnreachableError(`the stack has no ${component} log group outputs`);
  const seen = new Set<string>();
  let from = since;
  return async (first: boolean): Promise<LogEntry[]> => {
    const entries = await filterLogGroups(source.client, groups, {
      startTime: from,
      ...(first ? { limit } : {}),
      seen,
    });
    const last = entries.at(-1)?.time;
    // Overlap a little: CloudWatch can index an event after a later one; `seen` drops repeats.
    if (last) from = Math.max(from, Date.parse(last) - 10_000);
    return entries;
  };
}
