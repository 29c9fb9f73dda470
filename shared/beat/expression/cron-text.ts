import { ScheduleExpressionError } from '../errors.ts';

/**
 * The writing side of the cron dialect (`cron.ts` reads it): a set of field values as the shortest
 * text EventBridge accepts. We write only `*`, numbers, `a-b` ranges (never wrapping), and `a/n`
 * (a, a+n, ... to the end of the field) where the field allows steps; day of week allows none.
 */

/** CreateSchedule's limit on `ScheduleExpression` (API reference: 1-256 characters). */
export const MAX_EXPRESSION_LENGTH = 256;

function runs(values: readonly number[]): { first: number; text: string }[] {
  const out: { first: number; text: string }[] = [];
  let i = 0;
  while (i < values.length) {
    let j = i;
    while (j + 1 < values.length && (values[j + 1] as number) === (values[j] as number) + 1) j++;
    const a = values[i] as number;
    const b = values[j] as number;
    if (j > i) out.push({ first: a, text: `${a}-${b}` });
    else for (let k = i; k <= j; k++) out.push({ first: values[k] as number, text: String(values[k]) });
    i = j + 1;
  }
  return out;
}

/**
 * The shortest text this dialect has for a sorted set of values in `[min, max]`: `*`, or a list of
 * numbers and ranges, with at most one `a/n` progression where the field allows steps (of four
 * values or more, or of three that are the whole set, so that short lists stay plain).
 */
export function compressField(
  values: readonly number[],
  min: number,
  max: number,
  allowStep: boolean,
): string {
  if (values.length === 0) throw new ScheduleExpressionError('cron()', 'an empty field has no cron text');
  if (values.length === max - min + 1) return '*';
  let best = runs(values)
    .map((r) => r.text)
    .join(',');
  if (!allowStep) return best;
  const present = new Set(values);
  for (const a of values) {
    for (let n = 2; a + n <= max; n++) {
      const progression: number[] = [];
      let inside = true;
      for (let v = a; v <= max; v += n) {
        if (!present.has(v)) {
          inside = false;
          break;
        }
        progression.push(v);
      }
      if (!inside || progression.length < 3 || (progression.length < 4 && progression.length < values.length))
        continue;
      const taken = new Set(progression);
      const parts = [{ first: a, text: `${a}/${n}` }, ...runs(values.filter((v) => !taken.has(v)))].sort(
        (x, y) => x.first - y.first,
      );
      const text = parts.map((p) => p.text).join(',');
      if (text.length < best.length) best = text;
    }
  }
  return best;
}
