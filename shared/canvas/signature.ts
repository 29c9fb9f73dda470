import { randomUUID } from 'node:crypto';
import { getConfig } from '../config/config.ts';
import { type SignatureInput, signatureSchema } from '../envelope/signature.ts';
import { fromZodIssues, ValidationError } from '../errors.ts';
import type { AsyncResult } from '../producer/async-result.ts';
import type { TaskCall } from '../producer/call.ts';
import type { TaskRegistry } from '../task/registry.ts';

/** A signature, or its wire JSON (a task defined elsewhere can be named that way). */
export type SignatureLike = Signature | SignatureInput;

/** What a signature keeps for when it is sent: Celery's signature options, camelCased. */
export type SignatureOptions = Pick<
  TaskCall,
  'countdown' | 'eta' | 'expires' | 'queue' | 'taskId' | 'timeLimit' | 'softTimeLimit'
> & {
  /** Celery's `.si()`: the parent's result is not prepended to args, and later args are ignored. */
  immutable?: boolean;
  /** Sent when this one succeeds, its result prepended to mutable ones (Celery's `link`). */
  link?: SignatureLike | readonly SignatureLike[];
  /** Sent when this one fails for good, its id as their first argument (Celery's `link_error`). */
  linkError?: SignatureLike | readonly SignatureLike[];
};

/** Arguments and options together: what `task.s({ ... })` and `sig.applyAsync({ ... })` take. */
export type SignatureCall<A extends unknown[] = unknown[]> = SignatureOptions & {
  args?: A;
  kwargs?: Record<string, unknown>;
};

/** What a signature needs of its task: to send a call and to give a result handle (a `Task` does). */
export interface SignedTask<R> {
  readonly name: string;
  /** Where the task is registered: a group of its signatures routes and checks them there. */
  readonly registry?: TaskRegistry;
  applyAsync(options: Omit<TaskCall, 'task'>): Promise<AsyncResult<R>>;
  result(taskId: string): AsyncResult<R>;
}

const OPTION_KEYS: ReadonlySet<string> = new Set([
  'args',
  'kwargs',
  'countdown',
  'eta',
  'expires',
  'queue',
  'taskId',
  'timeLimit',
  'softTimeLimit',
  'immutable',
  'link',
  'linkError',
]);

/**
 * Whether `task.s(x)` was given the options form `{ args, kwargs, ...options }` rather than one
 * positional argument: a single plain object whose keys are all call options (`{}` included).
 * A task whose one argument is such an object is called with `task.signature({ args: [x] })`.
 */
export function isSignatureCall(args: readonly unknown[]): args is [SignatureCall] {
  if (args.length !== 1) return false;
  const only = args[0];
  if (typeof only !== 'object' || only === null || Array.isArray(only)) return false;
  const proto = Object.getPrototypeOf(only);
  if (proto !== Object.prototype && proto !== null) return false;
  return Object.keys(only).every((key) => OPTION_KEYS.has(key));
}

function listOf(value: SignatureLike | readonly SignatureLike[] | undefined): SignatureLike[] {
  if (value === undefined) return [];
  return Array.isArray(value) ? [...value] : [value as SignatureLike];
}

/**
 * The ids given, in one application of a canvas, to the signatures that had none: the same
 * signature object linked twice (to two parts of a chain) is the same task, while applying the
 * same call again gives its links new ids, so a callback object reused across calls runs for each.
 */
export type AppliedIds = Map<Signature, string>;

/** The wire JSON of signatures, with ids from `ids` for those that have none of their own. */
export function signatureJsonList(
  value: SignatureLike | readonly SignatureLike[] | undefined,
  ids: AppliedIds = new Map(),
): SignatureInput[] {
  return listOf(value).map((s) => (s instanceof Signature ? s.wire(ids) : s));
}

function expiresText(value: TaskCall['expires'], now: number): string | undefined {
  if (value === undefined) return undefined;
  const date =
    value instanceof Date
      ? value
      : typeof value === 'number'
        ? new Date(now + value * 1000)
        : new Date(value);
  if (Number.isNaN(date.getTime())) throw ValidationError.of('signature.expires', 'is not a valid date');
  return date.toISOString();
}

/**
 * A task call to send later (Celery's signature, `task.s(...)`): its args, kwargs and options,
 * and, once applied, its id. A chain or a link sends it from the worker, as its JSON; `delay` and
 * `applyAsync` send it from here. New args given when it is applied go before its own (Celery's
 * partials, `add.s(2).delay(4)` is `add(4, 2)`), unless it is immutable.
 */
export class Signature<R = unknown> {
  readonly task: string;
  readonly args: readonly unknown[];
  readonly kwargs: Readonly<Record<string, unknown>>;
  #options: SignatureOptions;
  readonly #task: SignedTask<R>;

  constructor(task: SignedTask<R>, call: SignatureCall = {}) {
    const { args = [], kwargs = {}, ...options } = call;
    this.#task = task;
    this.task = task.name;
    this.args = [...args];
    this.kwargs = { ...kwargs };
    this.#options = { ...options };
  }

  /**
   * Its task id, once fixed by `freeze`, `fixId`, `toJSON` or `set({ taskId })`. A chain or a link
   * that carries it gives its copy an id without fixing this one: freeze it first to know it.
   */
  get id(): string | undefined {
    return this.#options.taskId;
  }

  /** The registry of its task (a `Task`'s own), so a group or chord of it routes as the task does. */
  get registry(): TaskRegistry | undefined {
    return this.#task.registry;
  }

  get immutable(): boolean {
    return this.#options.immutable === true;
  }

  /** A copy of its options (`link` and `linkError` as given). */
  get options(): SignatureOptions {
    return { ...this.#options };
  }

  /** Merges options into this signature and returns it (Celery's `sig.set(...)`). */
  set(options: SignatureOptions): this {
    this.#options = { ...this.#options, ...options };
    return this;
  }

  /** Adds a signature to send when this one succeeds (Celery's `sig.link(...)`). */
  link(callback: SignatureLike): this {
    this.#options = { ...this.#options, link: [...listOf(this.#options.link), callback] };
    return this;
  }

  /** Adds a signature to send when this one fails (Celery's `sig.link_error(...)`, `on_error`). */
  onError(errback: SignatureLike): this {
    this.#options = { ...this.#options, linkError: [...listOf(this.#options.linkError), errback] };
    return this;
  }

  /**
   * A new signature: these args go before its own and these kwargs and options over its own
   * (args and kwargs are ignored when it is immutable). The copy has no id of its own unless
   * one is given: it is another call, and a copy sent under the same id would not run again.
   */
  clone(call: SignatureCall = {}): Signature<R> {
    const { args = [], kwargs = {}, ...options } = call;
    const { taskId: _id, ...kept } = this.#options;
    return new Signature(this.#task, {
      ...kept,
      ...options,
      args: this.immutable ? [...this.args] : [...args, ...this.args],
      kwargs: this.immutable ? { ...this.kwargs } : { ...this.kwargs, ...kwargs },
    });
  }

  /** Fixes its id (a new UUID unless given or already fixed) and returns its result (Celery's `freeze`). */
  freeze(taskId?: string): AsyncResult<R> {
    return this.#task.result(this.fixId(taskId));
  }

  /** Fixes its id as `freeze` does and returns it, with no result handle (no result store needed). */
  fixId(taskId?: string): string {
    if (taskId !== undefined) this.#options.taskId = taskId;
    this.#options.taskId ??= randomUUID();
    return this.#options.taskId;
  }

  /**
   * Its wire JSON, as `link`, `linkError` and `chain` carry it; the id is fixed first. A relative
   * `expires` (seconds) is made a time now; an `eta` cannot wait in a message, use `countdown`.
   */
  toJSON(): SignatureInput {
    this.fixId();
    return this.wire(new Map());
  }

  /** Its wire JSON within one application: its own id, or the one `ids` gives it (without fixing it). */
  wire(ids: AppliedIds): SignatureInput {
    let id = this.id ?? ids.get(this);
    if (id === undefined) {
      id = randomUUID();
      ids.set(this, id);
    }
    const o = this.#options;
    if (o.eta !== undefined) {
      throw ValidationError.of(
        'signature.eta',
        'a signature sent by another task keeps a countdown, not an eta; use countdown',
      );
    }
    const expires = expiresText(o.expires, Date.now());
    const link = signatureJsonList(o.link, ids);
    const linkError = signatureJsonList(o.linkError, ids);
    const json: SignatureInput = {
      task: this.task,
      id,
      ...(this.args.length > 0 ? { args: [...this.args] } : {}),
      ...(Object.keys(this.kwargs).length > 0 ? { kwargs: { ...this.kwargs } } : {}),
      ...(o.immutable ? { immutable: true } : {}),
      ...(o.queue !== undefined ? { queue: o.queue } : {}),
      ...(o.countdown !== undefined ? { countdown: o.countdown } : {}),
      ...(expires !== undefined ? { expires } : {}),
      ...(o.timeLimit !== undefined ? { timeLimit: o.timeLimit } : {}),
      ...(o.softTimeLimit !== undefined ? { softTimeLimit: o.softTimeLimit } : {}),
      ...(link.length > 0 ? { link } : {}),
      ...(linkError.length > 0 ? { linkError } : {}),
    };
    const checked = signatureSchema.safeParse(json);
    if (!checked.success) throw fromZodIssues('signature', checked.error.issues);
    return json;
  }

  /** The call this signature makes, with `call`'s args before its own (a `TaskCall`, for `sendMany`). */
  toCall(call: SignatureCall = {}, ids: AppliedIds = new Map()): TaskCall {
    const { args = [], kwargs = {}, link, linkError, immutable: _immutable, ...options } = call;
    const o = { ...this.#options, ...options };
    const links = [...signatureJsonList(o.link, ids), ...signatureJsonList(link, ids)];
    const errbacks = [...signatureJsonList(o.linkError, ids), ...signatureJsonList(linkError, ids)];
    const { link: _l, linkError: _e, immutable: _i, ...sendOptions } = o;
    return {
      ...sendOptions,
      task: this.task,
      args: this.immutable ? [...this.args] : [...args, ...this.args],
      kwargs: this.immutable ? { ...this.kwargs } : { ...this.kwargs, ...kwargs },
      ...(links.length > 0 ? { link: links } : {}),
      ...(errbacks.length > 0 ? { linkError: errbacks } : {}),
    };
  }

  /** Sends it with these args before its own (Celery's `sig.delay(...)`). */
  delay(...args: unknown[]): Promise<AsyncResult<R>> {
    return this.applyAsync({ args });
  }

  /** Sends it, these args before its own and these options over its own (Celery's `sig.apply_async`). */
  applyAsync(call: SignatureCall = {}): Promise<AsyncResult<R>> {
    return this.applyCall(this.toCall(call));
  }

  /** Sends a call of its task as given (a canvas adds its `chain` or `group` to `toCall()`'s). */
  applyCall(call: TaskCall): Promise<AsyncResult<R>> {
    const { task: _task, ...options } = call;
    return this.#task.applyAsync(options);
  }

  /** A chain of this signature and the next ones (Celery's `sig | other`). */
  pipe(...next: (Signature | Chain)[]): Chain<unknown> {
    return chain(this, ...next);
  }
}

/** The call a signature's JSON makes, `first` before its args unless immutable (an eager run's links). */
export function callOfSignature(sig: SignatureInput, first?: { value: unknown }): TaskCall {
  const { id, args = [], immutable, link, linkError, chain: _chain, expires, ...rest } = sig;
  return {
    ...rest,
    taskId: id,
    args: first !== undefined && !immutable ? [first.value, ...args] : [...args],
    ...(expires !== undefined ? { expires } : {}),
    ...(link?.length ? { link } : {}),
    ...(linkError?.length ? { linkError } : {}),
  };
}

/**
 * Celery's chain: each part runs once the one before it succeeded, its result first in the
 * part's args unless the part is immutable. Applying it fixes every part's id, sends the first
 * with the rest in its message (`chain`), and returns the last part's result, whose `parent`
 * walks back to the first, as Celery's does.
 */
export class Chain<R = unknown> {
  readonly tasks: readonly Signature[];

  constructor(tasks: readonly Signature[]) {
    this.tasks = tasks;
  }

  /** Links a callback to the last part: it gets the chain's result (Celery's `chain.link`). */
  link(callback: SignatureLike): this {
    this.tasks.at(-1)?.link(callback);
    return this;
  }

  /**
   * Links an errback to every part (Celery's `chain.on_error`): whichever part fails, it runs
   * once, with that part's id first (one object in one application is one task).
   */
  onError(errback: SignatureLike): this {
    for (const sig of this.tasks) sig.onError(errback);
    return this;
  }

  /** This chain with more parts after it (Celery's `chain | sig`). */
  pipe(...next: (Signature | Chain)[]): Chain<unknown> {
    return chain(this, ...next);
  }

  /** Sends it with these args before the first part's own (Celery's `chain.delay(...)`). */
  delay(...args: unknown[]): Promise<AsyncResult<R>> {
    return this.applyAsync({ args });
  }

  /**
   * Sends the first part, `call`'s args and options over its own, with the rest in its message;
   * the parts' ids are fixed now (those fixed before, by `freeze`, are kept). Under `alwaysEager`
   * the parts run here one by one, stopping at the first that does not succeed.
   */
  async applyAsync(call: SignatureCall = {}): Promise<AsyncResult<R>> {
    if (this.tasks.length === 0) throw ValidationError.of('chain', 'has no tasks');
    const parts = this.tasks.map((sig) => sig.clone({ taskId: sig.id }));
    if (getConfig().alwaysEager) return (await applyEagerly(parts, call)) as AsyncResult<R>;
    const [first, ...rest] = parts as [Signature, ...Signature[]];
    // One set of ids for the whole chain: an errback linked to several parts is one task.
    const ids: AppliedIds = new Map();
    for (const sig of parts) sig.fixId();
    const restJson = rest.map((sig) => sig.wire(ids));
    const results: AsyncResult[] = [await first.applyCall({ ...first.toCall(call, ids), chain: restJson })];
    for (const sig of rest) results.push(sig.freeze());
    return linked(results) as AsyncResult<R>;
  }

  /** Fixes every part's id and returns the last part's result, `parent` walking back (Celery's `freeze`). */
  freeze(): AsyncResult<R> {
    if (this.tasks.length === 0) throw ValidationError.of('chain', 'has no tasks');
    return linked(this.tasks.map((sig) => sig.freeze())) as AsyncResult<R>;
  }
}

function linked(results: AsyncResult[]): AsyncResult {
  results.forEach((result, i) => {
    result.parent = results[i - 1];
  });
  return results.at(-1) as AsyncResult;
}

/** An eager chain (Celery's `chain.apply()`): each part runs inline with the one before's result. */
async function applyEagerly(parts: readonly Signature[], call: SignatureCall): Promise<AsyncResult> {
  const results: AsyncResult[] = [];
  for (const sig of parts) {
    const before = results.at(-1);
    if (before && before.state !== 'SUCCESS') break;
    results.push(await sig.applyAsync(before ? { args: [before.result] } : call));
  }
  return linked(results);
}

/** Celery's `chain(a.s(), b.s(), c.s())`; a chain among the parts is spread out. */
export function chain(...tasks: (Signature | Chain)[]): Chain {
  return new Chain(tasks.flatMap((t) => (t instanceof Chain ? t.tasks : [t])));
}
