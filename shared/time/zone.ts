const TIME_ZONE_SHAPE = /^[A-Z][A-Za-z0-9_+-]*(\/[A-Z][A-Za-z0-9_+-]*)*$/;

/**
 * Why `name` is not a time zone EventBridge Scheduler will take, or `undefined` when it is one.
 * IANA names (and their aliases) are accepted as the runtime's ICU knows them, spelled with IANA's
 * capitals; offsets such as `+05:30` and lower-case spellings are refused with a suggestion.
 */
export function timeZoneProblem(name: string): string | undefined {
  let resolved: string;
  try {
    resolved = new Intl.DateTimeFormat('en-US', { timeZone: name }).resolvedOptions().timeZone;
  } catch {
    return `${JSON.stringify(name)} is not an IANA time zone`;
  }
  if (!TIME_ZONE_SHAPE.test(name)) {
    const hint = resolved.toLowerCase() === name.toLowerCase() ? `; did you mean "${resolved}"?` : '';
    return `${JSON.stringify(name)} is not an IANA time zone name as spelled${hint}`;
  }
  if (resolved !== name && resolved.toLowerCase() === name.toLowerCase()) {
    return `${JSON.stringify(name)} is not an IANA time zone name as spelled; did you mean "${resolved}"?`;
  }
  return undefined;
}
