/** Levels in the order Celery's loglevel names them. */
const LEVELS = { debug: 10, info: 20, warn: 30, error: 40, silent: 100 } as const;
export type LogLevel = keyof typeof LEVELS;

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

function levelFrom(text: string | undefined): number {
  const key = (text ?? 'info').toLowerCase().replace('warning', 'warn') as LogLevel;
  return LEVELS[key] ?? LEVELS.info;
}

const stdout = (line: string) => {
  process.stdout.write(`${line}\n`);
};
let processWriter: ((line: string) => void) | undefined;
let contextFields: () => Record<string, unknown> | undefined = () => undefined;

/**
 * Where loggers made without their own `write` send their lines, for the whole process (read at
 * each write). The local cloud uses it to copy the lines of functions it loaded into its log
 * files; on Lambda nothing sets it and lines go to stdout, which is CloudWatch Logs.
 */
export function setLogWriter(writer: ((line: string) => void) | undefined): void {
  processWriter = writer;
}

/**
 * Where every logger finds the fields of the invocation it writes in (request id, function, cold
 * start), read at each write: `shared/middleware/log-context.ts` sets it, so lines written by code
 * that knows nothing of Lambda (the worker runtime, the result store) still name their invocation.
 */
export function setLogContext(source: () => Record<string, unknown> | undefined): void {
  contextFields = source;
}

/**
 * One JSON object a line (what CloudWatch Logs Insights queries); `LOG_LEVEL` picks the threshold,
 * like the seed's `CELERY_WORKER_LOGLEVEL`.
 */
export function createLogger(
  base: Record<string, unknown> = {},
  options: { level?: string; write?: (line: string) => void } = {},
): Logger {
  const threshold = levelFrom(options.level ?? process.env.LOG_LEVEL);
  const write = options.write ?? ((line: string) => (processWriter ?? stdout)(line));
  const emit = (level: LogLevel) => (message: string, fields?: Record<string, unknown>) => {
    if (LEVELS[level] < threshold) return;
    write(
      JSON.stringify({
        time: new Date().toISOString(),
        level,
        message,
        ...base,
        ...contextFields(),
        ...fields,
      }),
    );
  };
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') };
}
