import * as z from '../../schema.ts';

/** `?limit=` of a listing: 1 to 100, 50 when not given. */
export const limitParam = z._default(
  z.pipe(
    z.string().check(z.regex(/^[0-9]{1,3}$/, { error: 'must be a whole number from 1 to 100' })),
    z.pipe(
      z.transform((v: string) => Number(v)),
      z
        .int()
        .check(
          z.gte(1, { error: 'must be a whole number from 1 to 100' }),
          z.lte(100, { error: 'must be a whole number from 1 to 100' }),
        ),
    ),
  ),
  50,
);

/** `?cursor=`: the opaque string the previous page returned. */
export const cursorParam = z.optional(
  z
    .string()
    .check(
      z.minLength(1, { error: 'must not be empty' }),
      z.maxLength(2048, { error: 'is not a cursor this listing returned' }),
    ),
);

/** The query of a paged listing. */
export const pageQuery = z.strictObject({ limit: limitParam, cursor: cursorParam });
