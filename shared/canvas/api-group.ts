import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { getProducer, getResultStore, revoke } from '../app-producer.ts';
import { getConfig } from '../config/config.ts';
import type { SignatureInput } from '../envelope/signature.ts';
import { AsyncResult } from '../producer/async-result.ts';
import type { TaskResultRecord } from '../results/record.ts';
import { defaultRegistry, type TaskRegistry } from '../task/registry.ts';
import { runChordEagerly, runGroupEagerly } from './api-group-eager.ts';
import { GroupResult } from './api-group-result.ts';
import { applyGroup } from './group-apply.ts';

/**
 * What `group()` and `chord()` take: a task's signature (`task.s(...)`, anything whose `toJSON()`
 * gives the wire form), or the wire form itself (`{ task, args, ... }`; an id is given if absent).
 */
export type SignatureLike =
  | (Omit<SignatureInput, 'id'> & { id?: string })
  | { toJSON(): SignatureInput; registry?: TaskRegistry };

/** The members' `origin`, as the producer names a send of its own. */
const ORIGIN = `producer@${hostname()}`;

export interface GroupApplyOptions {
  /** The group's id (Celery's `group_id`). @defaultValue a new UUID */
  groupId?: string;
}

/** The wire form of a part, its id fixed (a new UUID when it had none). */
function wire(part: SignatureLike): SignatureInput {
  const json =
    'toJSON' in part && typeof part.toJSON === 'function' ? part.toJSON() : (part as SignatureInput);
  return { ...json, id: json.id ?? randomUUID() };
}

/** The registry the parts' tasks are checked against: a signature's own, else the default one. */
function registryOf(parts: readonly SignatureLike[]): TaskRegistry {
  for (const part of parts) if ('registry' in part && part.registry) return part.registry;
  return defaultRegistry;
}

function deps(registry: TaskRegistry) {
  return {
    producer: getProducer(registry),
    store: getResultStore(),
    resultExpires: getConfig().resultExpires,
  };
}

/**
 * Celery's `group`: members that run in parallel, each with its own result, gathered in a
 * `GroupResult` in member order. The members' ids are fixed when the group is built, so the
 * same `Group` applied again sends the same tasks (which the worker does not run twice).
 */
export class Group {
  readonly members: readonly SignatureInput[];
  /** Where the members' tasks are found (their args checked, their routes read). */
  readonly registry: TaskRegistry;

  constructor(members: readonly SignatureLike[]) {
    this.members = members.map(wire);
    this.registry = registryOf(members);
  }

  /**
   * Writes the group's record, then sends its members in batches (ten a request, several at
   * once), and returns their `GroupResult`. A bad member sends nothing (a `ValidationError`
   * naming it); an `EnqueueError` lists any SQS did not take, and applying again sends the rest.
   */
  async applyAsync(options: GroupApplyOptions = {}): Promise<GroupResult> {
    const groupId = options.groupId ?? randomUUID();
    const ids = this.members.map((m) => m.id);
    if (getConfig().alwaysEager)
      return new GroupResult(groupId, ids, { records: await runGroupEagerly(this.registry, this.members) });
    await applyGroup(deps(this.registry), { groupId, members: this.members, origin: ORIGIN });
    return new GroupResult(groupId, ids);
  }

  /** `applyAsync()` (Celery's `group(...).delay()`; a group's members carry their own args). */
  delay(): Promise<GroupResult> {
    return this.applyAsync();
  }
}

/** The callback's `AsyncResult`, with the header's `GroupResult` as its `parent` (as Celery's). */
export class ChordResult<R = unknown> extends AsyncResult<R> {
  readonly parent: GroupResult;

  /** `record`: the callback's row when it is known already (an eager chord's). */
  constructor(id: string, parent: GroupResult, record?: TaskResultRecord) {
    super(id, record ? { record, revoke } : { store: getResultStore(), revoke });
    this.parent = parent;
  }
}

/**
 * Celery's `chord(header, body)`: the body (callback) runs once every member of the header is
 * ready, with their results in member order as its first argument, exactly once however the
 * members' messages are delivered; if a member fails or is revoked, the callback is recorded
 * FAILURE (`ChordError`) without running and its `linkError`s are sent.
 */
export class Chord {
  readonly header: Group;
  readonly body: SignatureInput;
  readonly #registry: TaskRegistry;

  constructor(header: Group | readonly SignatureLike[], body: SignatureLike) {
    this.header = header instanceof Group ? header : new Group(header);
    this.body = wire(body);
    this.#registry = registryOf([body]) === defaultRegistry ? this.header.registry : registryOf([body]);
  }

  async applyAsync(options: GroupApplyOptions = {}): Promise<ChordResult> {
    const groupId = options.groupId ?? randomUUID();
    const members = this.header.members;
    const ids = members.map((m) => m.id);
    if (getConfig().alwaysEager) {
      const ran = await runChordEagerly(this.#registry, members, this.body);
      return new ChordResult(
        this.body.id,
        new GroupResult(groupId, ids, { records: ran.members }),
        ran.callback,
      );
    }
    await applyGroup(deps(this.#registry), { groupId, members, callback: this.body, origin: ORIGIN });
    return new ChordResult(this.body.id, new GroupResult(groupId, ids));
  }

  delay(): Promise<ChordResult> {
    return this.applyAsync();
  }
}

/** Celery's `group(a.s(1), b.s(2))`, or `group([..])`. */
export function group(...members: (SignatureLike | readonly SignatureLike[])[]): Group {
  return new Group(members.flatMap((m) => (Array.isArray(m) ? m : [m as SignatureLike])));
}

/**
 * Celery's `chord(header, body)` (a `Chord` to apply), or `chord(header)(body)`, which applies
 * at once and returns the callback's result.
 */
export function chord(header: Group | readonly SignatureLike[], body: SignatureLike): Chord;
export function chord(
  header: Group | readonly SignatureLike[],
): (body: SignatureLike) => Promise<ChordResult>;
export function chord(
  header: Group | readonly SignatureLike[],
  body?: SignatureLike,
): Chord | ((body: SignatureLike) => Promise<ChordResult>) {
  if (body !== undefined) return new Chord(header, body);
  return (callback: SignatureLike) => new Chord(header, callback).applyAsync();
}
