import type { GetScheduleCommandOutput } from '@aws-sdk/client-scheduler';
import { describe, expect, it } from 'vitest';
import { nextDue, readSchedule } from '../../localstack/scheduler/scheduler-clock-timing.ts';
import { renderInput, scheduleRequest, translate } from '../../shared/beat/index.ts';
import type { Envelope } from '../../shared/envelope/schema.ts';
import { admitPeriodic } from '../../shared/worker/periodic.ts';
import {
  celeryYear,
  definitionOf,
  firstDifference,
  NOW,
  rows,
  YEAR_END,
  YEAR_START,
} from '../support/crontab-cases.ts';

const TARGET = {
  groupName: 'celerity',
  queueArn: 'arn:aws:sqs:us-east-1:000000000000:celerity-default',
  roleArn: 'arn:aws:iam::000000000000:role/celerity-scheduler',
  now: NOW,
};

/**
 * The local path of a periodic task, minus the wires: the sync's CreateSchedule request, read back
 * as GetSchedule returns it; the clock's own reading (`readSchedule`) and due times (`nextDue`,
 * called as the clock calls it, after each run it fired); each run's Input rendered as the clock
 * delivers it; and the worker's admission (its day guard) of that message.
 */
function clockRuns(row: (typeof rows)[number]): number[] {
  const definition = definitionOf(row);
  const request = scheduleRequest(definition, translate(definition, { now: NOW }), TARGET);
  const detail: GetScheduleCommandOutput = { ...request, CreationDate: NOW, $metadata: {} };
  const schedule = readSchedule(detail, NOW.getTime());
  expect(schedule.problem).toBeUndefined();
  const ran: number[] = [];
  for (
    let due = nextDue(schedule, YEAR_START - 1);
    due !== undefined && due < YEAR_END;
    due = nextDue(schedule, due)
  ) {
    const body = renderInput(request.Target.Input, { executionId: 'e', scheduledTime: new Date(due) });
    const admission = admitPeriodic(JSON.parse(body) as Envelope, due);
    if (admission.kind === 'run') ran.push(Date.parse(admission.envelope.beat?.scheduledAt as string));
  }
  return ran;
}

describe('a year of runs: the local scheduler clock + the worker guard vs Celery minute by minute', () => {
  it.each(rows)(
    '%s %s %s %s %s (%s)',
    (...row) => {
      const celery = celeryYear(row);
      expect(firstDifference(clockRuns(row), celery.eventBridge)).toBeUndefined();
      // A year of every minute is half a million runs through the clock and the worker's admission.
    },
    60_000,
  );
});
