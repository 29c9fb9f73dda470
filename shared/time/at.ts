/**
 * EventBridge Scheduler's `at()` takes local date-time text with no zone; the schedule's timezone is
 * UTC. Whole seconds, rounded up so a one-time schedule never fires before its time. Used by the
 * producer's far ETAs and by Beat's re-armed runs alike, so it lives below both.
 */
export function atExpression(when: Date): string {
  return `at(${new Date(Math.ceil(when.getTime() / 1000) * 1000).toISOString().slice(0, 19)})`;
}
