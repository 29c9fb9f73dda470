import { createHash } from 'node:crypto';
import { type CeleryMessageIds, UnsupportedCanvasError } from './errors.ts';
import { isObject } from './kombu.ts';
import { time } from './values.ts';

/** A Celery signature as the embed of a protocol 2 body carries it (`Signature.__json__`). */
interface CelerySignatureJson {
  task: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  options?: Record<string, unknown>;
  subtask_type?: string | null;
  immutable?: boolean;
}

/** A signature in Celerity's terms (shared/envelope/signature.ts): what a follow-up sends. */
export interface IntakeSignature {
  task: string;
  id: string;
  args?: unknown[];
  kwargs?: Record<string, unknown>;
  immutable?: boolean;
  queue?: string;
  countdown?: number;
  expires?: unknown;
  timeLimit?: number;
  softTimeLimit?: number;
  link?: IntakeSignature[];
  linkError?: IntakeSignature[];
}

/**
 * Celery's signatures as Celerity's. A signature the producer did not freeze (a `link=` callback)
 * has no task id; Celery's worker would mint one when it sends it. Here it is derived from the
 * message's id and the signature's place, so a redelivered message sends the same follow-up (the
 * worker's id dedup makes that send idempotent) and the id is known before the task runs.
 */
export function celerySignatures(
  value: unknown,
  at: { ids: CeleryMessageIds; field: string; ownerId: string },
): IntakeSignature[] | undefined {
  if (value === null || value === undefined) return undefined;
  const list = Array.isArray(value) ? value : [value];
  if (list.length === 0) return undefined;
  return list.map((item, index) => celerySignature(item, { ...at, field: `${at.field}[${index}]` }));
}

function celerySignature(
  value: unknown,
  at: { ids: CeleryMessageIds; field: string; ownerId: string },
): IntakeSignature {
  if (!isObject(value) || typeof value.task !== 'string')
    throw new UnsupportedCanvasError(`${at.field}: is not a Celery signature (no task name)`, at.ids);
  const sig = value as unknown as CelerySignatureJson;
  if (sig.subtask_type)
    throw new UnsupportedCanvasError(
      `${at.field}: a ${sig.subtask_type} signature (${sig.task}) as a callback is not supported: ` +
        'link a single task, or build the canvas with Celerity',
      at.ids,
    );
  const options = isObject(sig.options) ? sig.options : {};
  const id =
    typeof options.task_id === 'string' && options.task_id
      ? options.task_id
      : derivedId(at.ownerId, at.field);
  const nested = (key: string) =>
    celerySignatures(options[key], { ids: at.ids, field: `${at.field}.options.${key}`, ownerId: id });
  const link = nested('link');
  const linkError = nested('link_error');
  return {
    task: sig.task,
    id,
    ...(Array.isArray(sig.args) && sig.args.length > 0 ? { args: sig.args } : {}),
    ...(isObject(sig.kwargs) && Object.keys(sig.kwargs).length > 0 ? { kwargs: sig.kwargs } : {}),
    ...(sig.immutable === true ? { immutable: true } : {}),
    ...given('queue', options.queue),
    ...given('countdown', options.countdown ?? countdownOf(options.eta)),
    ...time('expires', options.expires),
    ...given('timeLimit', options.time_limit),
    ...given('softTimeLimit', options.soft_time_limit),
    ...(link ? { link } : {}),
    ...(linkError ? { linkError } : {}),
  } as IntakeSignature;
}

/** A field when Celery set it (null and absent are both "not set"). */
function given<K extends string>(key: K, value: unknown): { [k in K]?: unknown } {
  return value === null || value === undefined ? {} : ({ [key]: value } as { [k in K]: unknown });
}

/**
 * A signature's `eta` (`.set(eta=...)`) as the countdown a Celerity signature carries: seconds
 * from now, never negative (a time past runs at once, as Celery runs it). Unreadable, it is
 * passed on for the schema to refuse by name.
 */
function countdownOf(eta: unknown, now = Date.now()): unknown {
  if (eta === null || eta === undefined) return undefined;
  const at = time('eta', eta, now).eta;
  return typeof at === 'string' ? Math.max(0, Math.ceil((Date.parse(at) - now) / 1000)) : eta;
}

/** A UUID-shaped id fixed by the message's id and the signature's place in it. */
export function derivedId(ownerId: string, place: string): string {
  const hex = createHash('sha256').update(`${ownerId}\n${place}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-5${hex.slice(13, 16)}-${((Number.parseInt(hex.slice(16, 17), 16) & 3) | 8).toString(16)}${hex.slice(17, 20)}-${hex.slice(20, 32)}`;
}
