// Small charts as inline SVG built element by element (no library, nothing parsed from strings).
import { s } from './dom.js';

/**
 * Horizontal stacked bars: one bar per row, its segments' widths in proportion to the largest
 * row's total. `rows`: `[{ label, segments: [{ value, cls, title }] }]`.
 */
export function stackedBars(rows, { title, width = 520 } = {}) {
  const rowHeight = 22;
  const labelWidth = Math.min(220, width * 0.42);
  const barWidth = width - labelWidth - 48;
  const max = Math.max(1, ...rows.map((r) => r.segments.reduce((sum, seg) => sum + seg.value, 0)));
  const height = Math.max(rowHeight, rows.length * rowHeight) + 4;
  const svg = frame(title, width, height);
  rows.forEach((row, i) => {
    const y = i * rowHeight + 2;
    svg.append(rowLabel(labelWidth, y + 15, row.label));
    let x = labelWidth;
    let total = 0;
    for (const seg of row.segments) {
      if (!seg.value) continue;
      const w = (seg.value / max) * barWidth;
      svg.append(
        s(
          'rect',
          { x, y: y + 3, width: Math.max(w, 1), height: rowHeight - 6, class: seg.cls },
          s('title', {}, `${seg.title}: ${seg.value}`),
        ),
      );
      x += w;
      total += seg.value;
    }
    svg.append(s('text', { x: x + 4, y: y + 15, class: 'value' }, String(total)));
  });
  return svg;
}

/** Paired bars of two figures per row (runtime p50 and p95), in proportion to the largest. */
export function pairedBars(rows, { title, unit = 'ms', width = 520 } = {}) {
  const rowHeight = 26;
  const labelWidth = Math.min(220, width * 0.42);
  const barWidth = width - labelWidth - 110;
  const max = Math.max(1, ...rows.flatMap((r) => [r.a ?? 0, r.b ?? 0]));
  const height = Math.max(rowHeight, rows.length * rowHeight) + 4;
  const svg = frame(title, width, height);
  rows.forEach((row, i) => {
    const y = i * rowHeight + 2;
    svg.append(rowLabel(labelWidth, y + 16, row.label));
    const a = ((row.a ?? 0) / max) * barWidth;
    const b = ((row.b ?? 0) / max) * barWidth;
    svg.append(
      s(
        'rect',
        { x: labelWidth, y: y + 2, width: Math.max(b, 1), height: 10, class: 'p95' },
        s('title', {}, `p95: ${row.b ?? '—'} ${unit}`),
      ),
    );
    svg.append(
      s(
        'rect',
        { x: labelWidth, y: y + 13, width: Math.max(a, 1), height: 10, class: 'p50' },
        s('title', {}, `p50: ${row.a ?? '—'} ${unit}`),
      ),
    );
    svg.append(
      s(
        'text',
        { x: labelWidth + Math.max(a, b) + 4, y: y + 16, class: 'value' },
        `${row.a ?? '—'} / ${row.b ?? '—'} ${unit}`,
      ),
    );
  });
  return svg;
}

/** An SVG that scales to its container, named for a screen reader. */
function frame(title, width, height) {
  return s(
    'svg',
    { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': title, class: 'chart' },
    s('title', {}, title),
  );
}

const shorten = (text, n) => (text.length > n ? `…${text.slice(-(n - 1))}` : text);

/** A row's name, right-aligned against the bars that start at `barsX`. */
function rowLabel(barsX, y, label) {
  return s('text', { x: barsX - 6, y, 'text-anchor': 'end', class: 'label' }, shorten(label, 32));
}
