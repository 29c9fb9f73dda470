import { type CloudWatchLogsClient, FilterLogEventsCommand } from '@aws-sdk/client-cloudwatch-logs';

/** One line of a Celerity log: the JSON the logger writes (`shared/log.ts`), or text it could not parse. */
export interface LogEntry {
  time: string;
  level: string;
  message: string;
  component?: string;
  /** Everything else the line carried: taskId, task, state, runtimeMs, ... */
  fields: Record<string, unknown>;
  /** Where it came from (a log group, a file). */
  source?: string;
}

/** Parses a log line; a line that is not our JSON is kept as its text, at level `info`. */
export function parseLogLine(text: string, fallbackTime?: string, source?: string): LogEntry | undefined {
  const line = text.trim();
  if (!line) return undefined;
  // Lambda's text format prefixes JSON with time, request id and level; the JSON is what we wrote.
  const start = line.indexOf('{');
  if (start >= 0) {
    try {
      const value = JSON.parse(line.slice(start)) as Record<string, unknown>;
      if (value && typeof value === 'object' && typeof value.message === 'string') {
        const { time, level, message, component, ...fields } = value;
        return {
          time: typeof time === 'string' ? time : (fallbackTime ?? ''),
          level: typeof level === 'string' ? level : 'info',
          message,
          ...(typeof component === 'string' ? { component } : {}),
          fields,
          ...(source ? { source } : {}),
        };
      }
    } catch {
      // not JSON: kept as text below
    }
  }
  return {
    time: fallbackTime ?? '',
    level: 'info',
    message: line,
    fields: {},
    ...(source ? { source } : {}),
  };
}

/**
 * One sweep of CloudWatch Logs over some groups since `startTime`, merged by time. `seen` keeps the
 * event ids already returned, so polling with an overlapping start repeats nothing.
 */
export async function filterLogGroups(
  logs: CloudWatchLogsClient,
  groups: readonly string[],
  options: { startTime: number; endTime?: number; limit?: number; seen?: Set<string> },
): Promise<LogEntry[]> {
  const limit = options.limit ?? 1000;
  const perGroup = await Promise.all(
    groups.map(async (group) => {
      const out: { at: number; entry: LogEntry }[] = [];
      let nextToken: string | undefined;
      do {
        const page = await logs.send(
          new FilterLogEventsCommand({
            logGroupName: group,
            startTime: options.startTime,
            ...(options.endTime ? { endTime: options.endTime } : {}),
            ...(nextToken ? { nextToken } : {}),
          }),
        );
        for (const event of page.events ?? []) {
          if (event.eventId && options.seen?.has(event.eventId)) continue;
          if (event.eventId) options.seen?.add(event.eventId);
          const at = event.timestamp ?? 0;
          const entry = parseLogLine(event.message ?? '', new Date(at).toISOString(), group);
          if (entry) out.push({ at, entry });
        }
        nextToken = page.nextToken;
      } while (nextToken && out.length < limit);
      return out;
    }),
  );
  return perGroup
    .flat()
    .sort((a, b) => a.at - b.at)
    .slice(-limit)
    .map((e) => e.entry);
}
