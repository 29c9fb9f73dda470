/**
 * Lambda event filtering (`FilterCriteria`) as an event source mapping applies it, for the local
 * pollers. The semantics are EventBridge's pattern matching, which Lambda's filtering shares:
 * - a pattern mirrors the record's structure; fields are ANDed, the values in a field's array ORed;
 * - a rule applies to **leaf** values: where the record holds an object (e.g. `{"S": "x"}`), the
 *   field counts as absent, so `"attr": [{"exists": true}]` never matches a DynamoDB attribute
 *   while `"attr": {"S": [{"exists": true}]}` does;
 * - where the record holds an array (a DynamoDB `L` or `SS`), a rule matches if any element does;
 * - `exists: false` matches a field that is absent, also when its parents are (a REMOVE record has
 *   no `NewImage`); every other rule, `anything-but` included, needs the field present;
 * - a DynamoDB number (`{"N": "5"}`) is a string in the record, so `numeric` never matches it.
 * Operators Lambda has that are not listed here (`wildcard`, `cidr`, nested `anything-but` forms
 * other than prefix/suffix) are refused when the filter is compiled, never passed through.
 */

/** The `FilterCriteria` of an event source mapping, as the template (or the API) gives it. */
export interface FilterCriteria {
  Filters?: { Pattern?: string }[];
}

/** The top-level fields of a DynamoDB stream record as Lambda delivers it. */
export const DYNAMODB_RECORD_FIELDS = [
  'eventID',
  'eventName',
  'eventVersion',
  'eventSource',
  'awsRegion',
  'dynamodb',
  'eventSourceARN',
  'userIdentity',
] as const;

export class FilterPatternError extends Error {
  override name = 'FilterPatternError';
}

/** A compiled `FilterCriteria`: a record passes if any of its patterns matches (none: all pass). */
export interface RecordFilter {
  readonly patterns: number;
  matches(record: unknown): boolean;
}

type Scalar = string | number | boolean | null;
type Rule = (leaves: readonly Scalar[]) => boolean;
interface ObjectPattern {
  fields: [key: string, node: PatternNode][];
  anyOf: ObjectPattern[][];
}
type PatternNode = { rules: Rule[] } | { object: ObjectPattern };

const NUMERIC_OPS = ['<', '<=', '=', '>=', '>'] as const;
type NumericOp = (typeof NUMERIC_OPS)[number];

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function isScalar(value: unknown): value is Scalar {
  return value === null || ['string', 'number', 'boolean'].includes(typeof value);
}

function describe(value: unknown): string {
  return JSON.stringify(value) ?? String(value);
}

function compare(op: NumericOp, left: number, right: number): boolean {
  switch (op) {
    case '<':
      return left < right;
    case '<=':
      return left <= right;
    case '=':
      return left === right;
    case '>=':
      return left >= right;
    case '>':
      return left > right;
  }
}

function numericRule(spec: unknown, at: string): Rule {
  if (!Array.isArray(spec) || (spec.length !== 2 && spec.length !== 4)) {
    throw new FilterPatternError(`${at}: numeric takes [op, n] or [op, n, op, n], not ${describe(spec)}`);
  }
  const checks: [NumericOp, number][] = [];
  for (let i = 0; i < spec.length; i += 2) {
    const [op, value] = [spec[i], spec[i + 1]];
    if (!NUMERIC_OPS.includes(op as NumericOp) || typeof value !== 'number' || !Number.isFinite(value)) {
      throw new FilterPatternError(
        `${at}: numeric needs an operator (${NUMERIC_OPS.join(' ')}) and a number`,
      );
    }
    checks.push([op as NumericOp, value]);
  }
  if (checks.length === 2 && (checks[0]?.[0] === '=' || checks[1]?.[0] === '=')) {
    throw new FilterPatternError(`${at}: a numeric range takes a lower and an upper bound, not "="`);
  }
  return (leaves) =>
    leaves.some(
      (leaf) => typeof leaf === 'number' && checks.every(([op, value]) => compare(op, leaf, value)),
    );
}

function stringTest(kind: 'prefix' | 'suffix' | 'equals-ignore-case', spec: unknown, at: string) {
  if (typeof spec !== 'string') throw new FilterPatternError(`${at}: ${kind} takes a string`);
  const lower = spec.toLowerCase();
  return (leaf: Scalar): boolean =>
    typeof leaf === 'string' &&
    (kind === 'prefix'
      ? leaf.startsWith(spec)
      : kind === 'suffix'
        ? leaf.endsWith(spec)
        : leaf.toLowerCase() === lower);
}

function anythingButRule(spec: unknown, at: string): Rule {
  if (isPlainObject(spec)) {
    const [kind, ...more] = Object.keys(spec);
    if ((kind === 'prefix' || kind === 'suffix') && more.length === 0) {
      const test = stringTest(kind, spec[kind], `${at}.anything-but`);
      return (leaves) => leaves.some((leaf) => typeof leaf === 'string' && !test(leaf));
    }
    throw new FilterPatternError(`${at}: anything-but with ${describe(spec)} is not supported locally`);
  }
  const values = Array.isArray(spec) ? spec : [spec];
  if (values.length === 0 || !values.every((v) => typeof v === 'string' || typeof v === 'number')) {
    throw new FilterPatternError(`${at}: anything-but takes a string, a number, or a list of them`);
  }
  return (leaves) => leaves.some((leaf) => !(values as readonly Scalar[]).includes(leaf));
}

function operatorRule(spec: Record<string, unknown>, at: string): Rule {
  const keys = Object.keys(spec);
  if (keys.length !== 1) {
    throw new FilterPatternError(`${at}: a rule object takes exactly one operator, not ${describe(spec)}`);
  }
  const op = keys[0] as string;
  const arg = spec[op];
  switch (op) {
    case 'exists':
      if (typeof arg !== 'boolean') throw new FilterPatternError(`${at}: exists takes true or false`);
      return arg ? (leaves) => leaves.length > 0 : (leaves) => leaves.length === 0;
    case 'anything-but':
      return anythingButRule(arg, at);
    case 'numeric':
      return numericRule(arg, at);
    case 'prefix':
    case 'suffix':
    case 'equals-ignore-case': {
      const test = stringTest(op, arg, at);
      return (leaves) => leaves.some(test);
    }
    default:
      throw new FilterPatternError(`${at}: filter operator "${op}" is not supported by the local poller`);
  }
}

function compileRules(list: unknown[], at: string): Rule[] {
  if (list.length === 0) throw new FilterPatternError(`${at}: a field's list of values may not be empty`);
  return list.map((item, index) => {
    if (isScalar(item)) return (leaves: readonly Scalar[]) => leaves.includes(item);
    if (isPlainObject(item)) return operatorRule(item, `${at}[${index}]`);
    throw new FilterPatternError(`${at}[${index}]: ${describe(item)} is neither a value nor a rule`);
  });
}

function compileObject(pattern: Record<string, unknown>, at: string, topLevel?: ReadonlySet<string>) {
  const out: ObjectPattern = { fields: [], anyOf: [] };
  const entries = Object.entries(pattern);
  if (entries.length === 0) throw new FilterPatternError(`${at}: an empty pattern object matches nothing`);
  for (const [key, value] of entries) {
    const path = `${at}.${key}`;
    if (key === '$or') {
      if (!Array.isArray(value) || value.length < 2 || !value.every(isPlainObject)) {
        throw new FilterPatternError(`${path}: $or takes a list of at least two pattern objects`);
      }
      out.anyOf.push(value.map((branch, i) => compileObject(branch, `${path}[${i}]`, topLevel)));
      continue;
    }
    if (topLevel && !topLevel.has(key)) {
      // A misspelt field would silently match nothing (or, with exists:false, everything).
      throw new FilterPatternError(
        `${path}: the record has no field "${key}" (it has ${[...topLevel].join(', ')})`,
      );
    }
    if (Array.isArray(value)) out.fields.push([key, { rules: compileRules(value, path) }]);
    else if (isPlainObject(value)) out.fields.push([key, { object: compileObject(value, path) }]);
    else
      throw new FilterPatternError(
        `${path}: must be a list of values or a nested object, not ${describe(value)}`,
      );
  }
  return out;
}

/** What sits under `key` in a value, looking through arrays as the matcher does. */
function childrenAt(value: unknown, key: string): unknown[] {
  const out: unknown[] = [];
  const visit = (node: unknown) => {
    if (Array.isArray(node)) node.forEach(visit);
    else if (isPlainObject(node) && key in node) out.push(node[key]);
  };
  visit(value);
  return out;
}

function flatten(values: unknown[]): unknown[] {
  return values.flatMap((v) => (Array.isArray(v) ? flatten(v) : [v]));
}

function matchObject(pattern: ObjectPattern, value: unknown): boolean {
  for (const [key, node] of pattern.fields) {
    const found = flatten(childrenAt(value, key));
    if ('rules' in node) {
      const leaves = found.filter(isScalar);
      if (!node.rules.some((rule) => rule(leaves))) return false;
    } else {
      const objects = found.filter(isPlainObject);
      // Nothing there: the nested pattern can still match through exists:false.
      const candidates = objects.length > 0 ? objects : [undefined];
      if (!candidates.some((candidate) => matchObject(node.object, candidate))) return false;
    }
  }
  return pattern.anyOf.every((branches) => branches.some((branch) => matchObject(branch, value)));
}

/** Compiles one pattern (the parsed JSON of a filter's `Pattern`). */
export function compilePattern(
  pattern: unknown,
  options: { at?: string; topLevelFields?: readonly string[] } = {},
): (record: unknown) => boolean {
  const at = options.at ?? 'pattern';
  if (!isPlainObject(pattern)) throw new FilterPatternError(`${at}: a pattern is a JSON object`);
  const compiled = compileObject(
    pattern,
    at,
    options.topLevelFields ? new Set(options.topLevelFields) : undefined,
  );
  return (record) => matchObject(compiled, record);
}

/**
 * Compiles a mapping's `FilterCriteria`; throws `FilterPatternError` naming the filter and field
 * of anything it cannot evaluate exactly. `topLevelFields` (default: a DynamoDB stream record's)
 * refuses patterns on fields the record never has; pass `null` to allow any.
 */
export function compileFilterCriteria(
  criteria: FilterCriteria | undefined,
  topLevelFields: readonly string[] | null = DYNAMODB_RECORD_FIELDS,
): RecordFilter {
  const filters = criteria?.Filters ?? [];
  const matchers = filters.map((filter, index) => {
    const at = `FilterCriteria.Filters[${index}].Pattern`;
    if (typeof filter?.Pattern !== 'string') throw new FilterPatternError(`${at}: missing`);
    let parsed: unknown;
    try {
      parsed = JSON.parse(filter.Pattern);
    } catch (error) {
      throw new FilterPatternError(`${at}: not JSON (${(error as Error).message})`);
    }
    return compilePattern(parsed, { at, ...(topLevelFields ? { topLevelFields } : {}) });
  });
  return {
    patterns: matchers.length,
    matches: (record) => matchers.length === 0 || matchers.some((match) => match(record)),
  };
}
