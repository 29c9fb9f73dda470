import { ENVELOPE_BOUNDS, ID_PATTERN } from '../../envelope/bounds.ts';
import * as z from '../../schema.ts';
import { BUILTIN_STATES, CUSTOM_STATE_PATTERN, type TaskState } from '../../task/states.ts';

const STATE = CUSTOM_STATE_PATTERN.source.slice(1, -1);
const STATE_LIST = new RegExp(`^${STATE}(,${STATE})*$`);

/** `?state=FAILURE,PROGRESS`: one or more states (Celery's, or custom ones), comma-separated. */
export const statesParam = z.optional(
  z.pipe(
    z.string().check(
      z.regex(STATE_LIST, {
        error: `must be state names such as ${BUILTIN_STATES.join(', ')} or a custom one (PROGRESS), comma-separated`,
      }),
    ),
    // Celery's six in any case, as the CLI reads them; a custom state as the task wrote it.
    z.transform((v: string): TaskState[] =>
      v
        .split(',')
        .map((s) => ((BUILTIN_STATES as readonly string[]).includes(s.toUpperCase()) ? s.toUpperCase() : s)),
    ),
  ),
);

/** A task or periodic task name, as a filter. */
export const nameParam = z.optional(
  z
    .string()
    .check(
      z.minLength(1, { error: 'must not be empty' }),
      z.maxLength(200, { error: 'must be at most 200 characters' }),
    ),
);

/** An instant: ISO 8601 with a zone (`2026-12-01T04:00:00Z`). */
export const instant = z.optional(
  z.pipe(
    z.iso.datetime({
      offset: true,
      error: 'must be an ISO 8601 time with a zone, e.g. 2026-12-01T04:00:00Z',
    }),
    z.transform((v: string) => new Date(v)),
  ),
);

/** Which time `since` and `until` bound. */
export const timeFieldParam = z.optional(z.enum(['dateCreated', 'dateDone']));

/** A task id in a path: what the envelope allows one to be. */
export const idParams = z.strictObject({
  id: z.string().check(
    z.minLength(1, { error: 'must not be empty' }),
    z.maxLength(ENVELOPE_BOUNDS.idChars, {
      error: `must be at most ${ENVELOPE_BOUNDS.idChars} characters`,
    }),
    z.regex(ID_PATTERN, { error: 'may hold only letters, digits and _ . : -' }),
  ),
});
