import { ValidationError } from '../errors.ts';

/**
 * Refuses an option the middleware does not have (a misspelt option is an error, not a silent
 * no-op, as middy's own middlewares do), naming it as `middleware.option`.
 */
export function refuseUnknownOptions(middleware: string, options: object, known: readonly string[]): void {
  for (const key of Object.keys(options))
    if (!known.includes(key)) throw ValidationError.of(`${middleware}.${key}`, 'is not an option');
}
