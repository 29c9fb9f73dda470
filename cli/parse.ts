import { BUILTIN_STATES, CUSTOM_STATE_PATTERN, type TaskState } from '../shared/task/states.ts';
import { UsageError } from './errors.ts';

/** Argument checks: each throws `UsageError` naming the flag and showing what it got. */

function shown(text: string): string {
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function parseJson(flag: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new UsageError(`${flag}: is not valid JSON (${(error as Error).message}; got ${shown(text)})`);
  }
}

export function parseJsonArray(flag: string, text: string): unknown[] {
  const value = parseJson(flag, text);
  if (!Array.isArray(value)) throw new UsageError(`${flag}: must be a JSON array (got ${shown(text)})`);
  return value;
}

export function parseJsonObject(flag: string, text: string): Record<string, unknown> {
  const value = parseJson(flag, text);
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new UsageError(`${flag}: must be a JSON object (got ${shown(text)})`);
  }
  return value as Record<string, unknown>;
}

export function parseNumber(
  flag: string,
  text: string,
  options: { min?: number; max?: number; integer?: boolean } = {},
): number {
  const value = Number(text);
  const { min, max, integer } = options;
  const kind = integer ? 'a whole number' : 'a number';
  const range =
    min !== undefined && max !== undefined
      ? ` from ${min} to ${max}`
      : min !== undefined
        ? ` of at least ${min}`
        : '';
  if (
    text.trim() === '' ||
    !Number.isFinite(value) ||
    (integer && !Number.isInteger(value)) ||
    (min !== undefined && value < min) ||
    (max !== undefined && value > max)
  ) {
    throw new UsageError(`${flag}: must be ${kind}${range} (got ${shown(text)})`);
  }
  return value;
}

/** An instant with a zone: ISO 8601 with `Z` or an offset, so no one's clock guesses the zone. */
export function parseInstant(flag: string, text: string): Date {
  const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/i;
  const date = new Date(text);
  if (!iso.test(text) || Number.isNaN(date.getTime())) {
    throw new UsageError(
      `${flag}: must be an ISO 8601 date-time with a zone, such as 2026-01-31T09:00:00Z (got ${shown(text)})`,
    );
  }
  return date;
}

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `--since`: an instant, or a span back from now such as `30s`, `15m`, `2h`, `7d`. */
export function parseSince(flag: string, text: string, now: Date = new Date()): Date {
  const span = /^(\d+)\s*([smhdw])$/i.exec(text.trim());
  if (span)
    return new Date(now.getTime() - Number(span[1]) * (UNITS[(span[2] as string).toLowerCase()] as number));
  if (/^\d{4}-/.test(text)) return parseInstant(flag, text);
  throw new UsageError(
    `${flag}: must be a span such as 30s, 15m, 2h, 7d or an ISO date-time with a zone (got ${shown(text)})`,
  );
}

/** `--state`: one state or several, comma-separated, in any case. */
export function parseStates(flag: string, text: string): TaskState[] {
  const names: readonly string[] = BUILTIN_STATES;
  return text.split(',').map((part) => {
    const trimmed = part.trim();
    // Celery's six in any case; a custom state (`ctx.updateState`) as the task wrote it.
    if (names.includes(trimmed.toUpperCase())) return trimmed.toUpperCase();
    if (!CUSTOM_STATE_PATTERN.test(trimmed))
      throw new UsageError(
        `${flag}: ${shown(part)} is not a state (one of ${names.join(', ')}, or a custom one such as PROGRESS)`,
      );
    return trimmed;
  });
}

/** `--crontab 'm h dom mon dow'`: five fields, as crontab(5) writes them. */
export function parseCrontabLine(flag: string, text: string) {
  const fields = text.trim().split(/\s+/);
  if (fields.length !== 5) {
    throw new UsageError(
      `${flag}: must be five fields 'minute hour day-of-month month day-of-week', such as '0 9 * * 1-5' (got ${fields.length}: ${shown(text)})`,
    );
  }
  const [minute, hour, dayOfMonth, monthOfYear, dayOfWeek] = fields as [
    string,
    string,
    string,
    string,
    string,
  ];
  return { minute, hour, dayOfMonth, monthOfYear, dayOfWeek };
}

/** Options that exclude each other: at most one of `names` may be given. */
export function atMostOne(options: object, names: readonly string[]): string | undefined {
  const values = options as Record<string, unknown>;
  const given = names.filter((n) => values[n] !== undefined && values[n] !== false);
  if (given.length > 1) {
    throw new UsageError(
      `${given.map(flagName).join(' and ')}: give only one of ${names.map(flagName).join(', ')}`,
    );
  }
  return given[0];
}

export function flagName(option: string): string {
  return `--${option.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
}

/** The 1-based line of an offset in a text. */
function lineAt(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text[i] === '\n') line++;
  return line;
}

/** Where each element of a (valid) JSON array text begins: offsets, to name their lines. */
function elementOffsets(text: string): number[] {
  const offsets: number[] = [];
  let depth = 0;
  let inString = false;
  let expecting = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i] as string;
    if (inString) {
      if (c === '\\') i++;
      else if (c === '"') inString = false;
      continue;
    }
    if (depth === 1 && expecting && !/\s/.test(c) && c !== ']') {
      offsets.push(i);
      expecting = false;
    }
    if (c === '"') inString = true;
    else if (c === '[' || c === '{') {
      depth++;
      if (depth === 1) expecting = true;
    } else if (c === ']' || c === '}') depth--;
    else if (c === ',' && depth === 1) expecting = true;
  }
  return offsets;
}

/** A JSON array file's text, parsed; an error names its line first (Node's own message may not). */
function parseArrayFile(file: string, text: string): unknown[] {
  try {
    return JSON.parse(text) as unknown[];
  } catch (error) {
    const message = (error as Error).message;
    const position = /position (\d+)/.exec(message);
    const line = position ? ` line ${lineAt(text, Number(position[1]))}` : '';
    throw new UsageError(`--from-file ${file}${line}: is not valid JSON (${message})`);
  }
}

/** One call set of a `--from-file` file, with where it stands in the file (`f line 3 (item 1)`). */
export interface CallSet {
  call: { args?: unknown[]; kwargs?: Record<string, unknown> };
  where: string;
}

/**
 * `--from-file`: JSON lines, or one JSON array, of `{ "args": [...], "kwargs": {...} }`. Every
 * error names the line (and, in an array, the element's index).
 */
export function parseCallLines(file: string, text: string): CallSet[] {
  const trimmed = text.trim();
  if (!trimmed) throw new UsageError(`--from-file: ${file} is empty`);
  let items: { value: unknown; where: string }[];
  if (trimmed.startsWith('[')) {
    const values = parseArrayFile(file, text);
    const offsets = elementOffsets(text);
    items = values.map((v, i) => ({
      value: v,
      where: `${file} line ${lineAt(text, offsets[i] ?? 0)} (item ${i})`,
    }));
  } else {
    items = text.split('\n').flatMap((line, i) => {
      if (!line.trim()) return [];
      return [
        { value: parseJson(`--from-file ${file} line ${i + 1}`, line), where: `${file} line ${i + 1}` },
      ];
    });
  }
  return items.map(({ value, where }) => {
    if (!value || typeof value !== 'object' || Array.isArray(value)) {
      throw new UsageError(`--from-file ${where}: must be an object like {"args": [...], "kwargs": {...}}`);
    }
    const { args, kwargs, ...rest } = value as Record<string, unknown>;
    const extra = Object.keys(rest);
    if (extra.length) throw new UsageError(`--from-file ${where}: ${extra.join(', ')} is not args or kwargs`);
    if (args !== undefined && !Array.isArray(args))
      throw new UsageError(`--from-file ${where}: args must be a JSON array`);
    if (kwargs !== undefined && (!kwargs || typeof kwargs !== 'object' || Array.isArray(kwargs))) {
      throw new UsageError(`--from-file ${where}: kwargs must be a JSON object`);
    }
    return {
      call: {
        ...(args !== undefined ? { args: args as unknown[] } : {}),
        ...(kwargs !== undefined ? { kwargs: kwargs as Record<string, unknown> } : {}),
      },
      where,
    };
  });
}

/** The call sets of a `--from-file` text, without their places. */
export function parseCallSets(file: string, text: string): CallSet['call'][] {
  return parseCallLines(file, text).map((set) => set.call);
}
