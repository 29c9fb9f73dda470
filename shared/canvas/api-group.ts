import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { getProducer, getResultStore } from '../app-producer.ts';
import { getConfig } from '../config/config.ts';
import type { SignatureInput } from '../envelope/signature.ts';
import { defaultRegistry, TaskRegistry } from '../task/registry.ts';
import { ChordResult } from './api-chord-result.ts';
import { runChordEagerly, runGroupEagerly } from './api-group-eager.ts';
import { GroupResult } from './api-group-result.ts';
import { applyGroup } from './group-apply.ts';
import { Signature } from './signature.ts';

/**
 * What `group()` and `chord()` take: a signature (`task.s(...)`, `task.si(...)`), or its wire
 * JSON (`{ task, args, ... }`, for a task defined elsewhere; an id is given when it has none).
 */
export type GroupPart = Signature | (Omit<SignatureInput, 'id'> & { id?: string });

/** The members' `origin`, as the producer names a send of its own. */
const ORIGIN = `producer@${hostname()}`;

export interface GroupApplyOptions {
  /** The group's id (Celery's `group_id`). @defaultValue the `Group`'s own, fixed when it was built */
  groupId?: string;
}

/** The wire form of a part, its id fixed (a new UUID when it had none). */
function wire(part: GroupPart): SignatureInput {
  if (part instanceof Signature) return part.toJSON();
  return { ...part, id: part.id ?? randomUUID() };
}

/** The registry the parts' tasks are checked against: one a part names, else the default one. */
function registryOf(parts: readonly GroupPart[]): TaskRegistry {
  for (const part of parts)
    if ('registry' in part && part.registry instanceof TaskRegistry) return part.registry;
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
  /** The group's id, fixed when it is built (as its members' are), unless `applyAsync` is given one. */
  readonly id: string = randomUUID();
  readonly members: readonly SignatureInput[];
  /** Where the members' tasks are found (their args checked, their routes read). */
  readonly registry: TaskRegistry;

  constructor(members: readonly GroupPart[]) {
    this.members = members.map(wire);
    this.registry = registryOf(members);
  }

  /**
   * Writes the group's record, then sends its members in batches (ten a request, several at
   * once), and returns their `GroupResult`. A bad member sends nothing (a `ValidationError`
   * naming it); an `EnqueueError` lists any SQS did not take, and applying again sends the rest.
   */
  async applyAsync(options: GroupApplyOptions = {}): Promise<GroupResult> {
    const groupId = options.groupId ?? this.id;
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

  constructor(header: Group | readonly GroupPart[], body: GroupPart) {
    this.header = header instanceof Group ? header : new Group(header);
    this.body = wire(body);
    this.#registry = registryOf([body]) === defaultRegistry ? this.header.registry : registryOf([body]);
  }

  async applyAsync(options: GroupApplyOptions = {}): Promise<ChordResult> {
    const groupId = options.groupId ?? this.header.id;
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
export function group(...members: (GroupPart | readonly GroupPart[])[]): Group {
  return new Group(members.flatMap((m) => (Array.isArray(m) ? m : [m as GroupPart])));
}

/**
 * Celery's `chord(header, body)` (a `Chord` to apply), or `chord(header)(body)`, which applies
 * at once and returns the callback's result.
 */
export function chord(header: Group | readonly GroupPart[], body: GroupPart): Chord;
export function chord(header: Group | readonly GroupPart[]): (body: GroupPart) => Promise<ChordResult>;
export function chord(
  header: Group | readonly GroupPart[],
  body?: GroupPart,
): Chord | ((body: GroupPart) => Promise<ChordResult>) {
  if (body !== undefined) return new Chord(header, body);
  return (callback: GroupPart) => new Chord(header, callback).applyAsync();
}
