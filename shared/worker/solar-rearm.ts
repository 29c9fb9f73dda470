import { UpdateScheduleCommand } from '@aws-sdk/client-scheduler';
import { isAwsError } from '../aws/errors.ts';
import { scheduleRequest } from '../beat/schedule-input.ts';
import { translate } from '../beat/translate.ts';
import type { Logger } from '../log.ts';
import type { PeriodicBeat } from './periodic.ts';

/** After a solar event, look this far past it for the next one: the same event is a day away. */
const REARM_AFTER_MS = 60_000;

/** Moves a solar schedule to its next event's `at()`, planned from just after this one. */
export async function rearmSolar(
  beat: PeriodicBeat,
  name: string,
  scheduledAt: number,
  log: Logger,
): Promise<void> {
  const definition = await beat.store.get(name);
  if (!definition?.solar) return; // removed, or no longer solar: the stream has handled it
  const now = new Date(Math.max(scheduledAt + REARM_AFTER_MS, Date.now()));
  const request = scheduleRequest(definition, translate(definition, { now }), { ...beat.target, now });
  try {
    await beat.scheduler().send(new UpdateScheduleCommand(request));
    log.info('solar schedule re-armed', { periodicTask: name, expression: request.ScheduleExpression });
  } catch (error) {
    if (!isAwsError(error, 'ResourceNotFoundException')) throw error;
  }
}
