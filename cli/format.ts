/** Output for people: aligned tables, key-value blocks, short times. Scripts use `--json`. */

export interface Column<T> {
  header: string;
  value: (row: T) => string | number | boolean | undefined;
  /** Cut longer values to this many characters. */
  max?: number;
}

export function table<T>(rows: readonly T[], columns: readonly Column<T>[]): string {
  const cells = rows.map((row) =>
    columns.map((c) => {
      const value = c.value(row);
      const text = value === undefined ? '-' : String(value).replace(/\s*\n\s*/g, ' ');
      return c.max && text.length > c.max ? `${text.slice(0, c.max - 1)}…` : text;
    }),
  );
  const widths = columns.map((c, i) =>
    Math.max(c.header.length, ...cells.map((r) => (r[i] as string).length)),
  );
  const line = (values: readonly string[]) =>
    values
      .map((v, i) => (i === values.length - 1 ? v : v.padEnd(widths[i] as number)))
      .join('  ')
      .trimEnd();
  return [line(columns.map((c) => c.header)), ...cells.map(line)].join('\n');
}

/** `key  value` lines for one record, skipping what is not set. */
export function keyValues(entries: readonly [string, unknown][]): string {
  const shown = entries.filter(([, v]) => v !== undefined && v !== '');
  const width = Math.max(...shown.map(([k]) => k.length));
  return shown
    .map(([k, v]) => {
      const text = typeof v === 'string' ? v : JSON.stringify(v);
      const indented = text.replace(/\n/g, `\n${' '.repeat(width + 2)}`);
      return `${k.padEnd(width)}  ${indented}`;
    })
    .join('\n');
}

/** `2026-01-31 09:00:05Z`: ISO without the noise, still in UTC. */
export function shortTime(iso: string | undefined): string | undefined {
  if (!iso) return undefined;
  return iso.replace('T', ' ').replace(/\.\d+Z$/, 'Z');
}

/** A UTC instant as wall time in a zone, with the zone's offset: `2026-03-29 09:00:00 +01:00`. */
export function zonedTime(iso: string, timeZone: string): string {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-GB', {
      timeZone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      second: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'longOffset',
    })
      .formatToParts(new Date(iso))
      .map((p) => [p.type, p.value]),
  );
  const offset = String(parts.timeZoneName).replace('GMT', '') || '+00:00';
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute}:${parts.second} ${offset}`;
}

/** How long a run took, from its start and end: `1.25 s`, `320 ms`. */
export function runtime(started: string | undefined, done: string | undefined): string | undefined {
  if (!started || !done) return undefined;
  const ms = Date.parse(done) - Date.parse(started);
  if (!Number.isFinite(ms) || ms < 0) return undefined;
  return ms < 1000 ? `${ms} ms` : `${(ms / 1000).toFixed(2)} s`;
}

/** A progress bar on a terminal's stderr; nothing when it is not a terminal. */
export function progressBar(stream: { write(text: string): unknown }, enabled: boolean, label: string) {
  const width = 30;
  return {
    update(done: number, total: number) {
      if (!enabled) return;
      const filled = total ? Math.round((done / total) * width) : width;
      stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${done}/${total}`);
    },
    end() {
      if (enabled) stream.write('\n');
    },
  };
}
