import { CelerityError } from '../errors.ts';

/**
 * A chord's callback did not run because a member of its header failed or was revoked (Celery's
 * `ChordError`, worded as Celery words it: "Dependency <id> raised <type>: …"), or because the
 * callback could not be sent at all (its results over the queue's message size).
 */
export class ChordError extends CelerityError {
  /** The member that failed, when one did. */
  readonly dependency: string | undefined;

  constructor(message: string, options?: ErrorOptions & { dependency?: string }) {
    super(message, options);
    this.name = 'ChordError';
    this.dependency = options?.dependency;
  }

  /** The callback's error for a member that ended FAILURE or REVOKED. */
  static dependency(memberId: string, errorType: string | undefined, detail: string | undefined): ChordError {
    const said = detail ? `${errorType ?? 'Error'}: ${detail}` : (errorType ?? 'an unknown error');
    return new ChordError(`Dependency ${memberId} raised ${said}`, { dependency: memberId });
  }
}

/** A group's or chord's record in the results table is missing or unreadable. */
export class GroupNotFoundError extends CelerityError {
  readonly groupId: string;

  constructor(groupId: string, why: string, options?: ErrorOptions) {
    super(`group ${groupId}: ${why}`, options);
    this.name = 'GroupNotFoundError';
    this.groupId = groupId;
  }
}
