import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { type ClockFire, SchedulerClock } from '../../localstack/scheduler/scheduler-clock.ts';

const QUEUE = 'arn:aws:sqs:us-east-1:123456789012:tasks';
const quiet = { debug() {}, info() {}, warn() {}, error() {} };

interface FakeSchedule {
  Name: string;
  ScheduleExpression: string;
  StartDate?: Date;
  EndDate?: Date;
  CreationDate: Date;
  LastModificationDate: Date;
}

/**
 * The Scheduler API as the clock reads it, in memory. `getDelayMs` makes GetSchedule slow (a
 * loaded emulator); `listsModification: false` leaves LastModificationDate out of the listing, so
 * every refresh reads every schedule again (the most re-planning a refresh can cause).
 */
function fakeScheduler(
  schedules: FakeSchedule[],
  options: { getDelayMs?: number; listsModification?: boolean } = {},
) {
  const client = {
    async send(
      command: { constructor: { name: string }; input: { Name?: string } },
      request?: { abortSignal?: AbortSignal },
    ) {
      switch (command.constructor.name) {
        case 'ListScheduleGroupsCommand':
          return { ScheduleGroups: [{ Name: 'g' }] };
        case 'ListSchedulesCommand':
          return {
            Schedules: schedules.map((s) => ({
              Name: s.Name,
              GroupName: 'g',
              ...(options.listsModification === false
                ? {}
                : { LastModificationDate: s.LastModificationDate }),
            })),
          };
        case 'GetScheduleCommand': {
          if (options.getDelayMs) await slowly(options.getDelayMs, request?.abortSignal);
          const s = schedules.find((x) => x.Name === command.input.Name) as FakeSchedule;
          return {
            ...s,
            GroupName: 'g',
            Arn: `arn:aws:scheduler:us-east-1:123456789012:schedule/g/${s.Name}`,
            State: 'ENABLED',
            FlexibleTimeWindow: { Mode: 'OFF' },
            Target: { Arn: QUEUE, RoleArn: 'arn:aws:iam::123456789012:role/r', Input: '{}' },
          };
        }
        default:
          return {};
      }
    },
  };
  return client as unknown as SchedulerClient;
}

/** A slow response, cut short as the SDK cuts a request whose signal aborts. */
function slowly(ms: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(Object.assign(new Error('aborted'), { name: 'AbortError' }));
    });
  });
}

function fakeSqs(fail = false) {
  const sent: number[] = [];
  const sqs = {
    async send() {
      if (fail) throw Object.assign(new Error('try later'), { name: 'ServiceUnavailable' });
      sent.push(Date.now());
      return { MessageId: `m${sent.length}` };
    },
  } as unknown as SQSClient;
  return { sqs, sent };
}

function startClock(scheduler: SchedulerClient, sqs: SQSClient, fires: ClockFire[]): SchedulerClock {
  return new SchedulerClock({
    scheduler,
    sqs,
    resolveQueueUrl: () => 'url:tasks',
    onFire: (fire) => fires.push(fire),
    logger: quiet,
  }).start();
}

const rateSchedule = (start: number, now: number, extra: Partial<FakeSchedule> = {}): FakeSchedule => ({
  Name: 'rate',
  ScheduleExpression: 'rate(1 minute)',
  StartDate: new Date(start),
  CreationDate: new Date(now),
  LastModificationDate: new Date(now),
  ...extra,
});

beforeEach(() => vi.useFakeTimers());
afterEach(() => vi.useRealTimers());

describe('the scheduler clock, on a fake clock', () => {
  it("fires a rate() once per due time, on time: the integration test's 'double fire' was its next run", async () => {
    // The integration test started 55.3 s into a minute: its cron is then the minute after next.
    const now = Date.parse('2026-03-01T10:00:55.300Z');
    vi.setSystemTime(now);
    const rateStart = Math.ceil(now / 1000) * 1000 + 4000;
    let cronDue = Math.ceil((now + 1) / 60_000) * 60_000;
    if (cronDue - now < 5000) cronDue += 60_000;
    const fires: ClockFire[] = [];
    const { sqs, sent } = fakeSqs();
    const clock = startClock(fakeScheduler([rateSchedule(rateStart, now)]), sqs, fires);

    // The test waited for that cron run and 1.5 s more before it counted the rate's runs.
    await vi.advanceTimersByTimeAsync(cronDue + 1500 - now);
    await clock.stop();

    expect(fires.map((f) => f.scheduledTime.getTime())).toEqual([rateStart, rateStart + 60_000]);
    expect(fires.map((f) => f.delayMs)).toEqual([0, 0]);
    expect(sent).toEqual([rateStart, rateStart + 60_000]);
  });

  it('fires each run once when slow reads of the schedule race its timer', async () => {
    const now = Date.parse('2026-03-01T10:00:00.000Z');
    vi.setSystemTime(now);
    const fires: ClockFire[] = [];
    const { sqs } = fakeSqs();
    // Every 2 s refresh reads the schedule again, and each read takes 3 s: loads overlap every due time.
    const scheduler = fakeScheduler([rateSchedule(now + 1000, now)], {
      getDelayMs: 3000,
      listsModification: false,
    });
    const clock = startClock(scheduler, sqs, fires);
    await vi.advanceTimersByTimeAsync(5 * 60_000 + 500);
    await clock.stop();
    const due = fires.map((f) => f.scheduledTime.getTime() - now);
    // The first read ends 3 s in, after the first due time (1 s): runs due before the clock had
    // read the schedule are still fired, late, once.
    expect(due).toEqual([1000, 61_000, 121_000, 181_000, 241_000]);
  });

  it('after a stalled event loop, fires the missed run once, late, and the next on time', async () => {
    const now = Date.parse('2026-03-01T10:00:00.000Z');
    vi.setSystemTime(now);
    const fires: ClockFire[] = [];
    const { sqs } = fakeSqs();
    const clock = startClock(fakeScheduler([rateSchedule(now + 10_000, now)]), sqs, fires);
    await vi.advanceTimersByTimeAsync(5000);
    // 20 s with no timer run: the loop was blocked past the due time.
    vi.setSystemTime(now + 25_000);
    await vi.advanceTimersByTimeAsync(50_000);
    await clock.stop();
    expect(fires.map((f) => f.scheduledTime.getTime() - now)).toEqual([10_000, 70_000]);
    expect(fires[0]?.delayMs).toBeGreaterThan(0);
    expect(fires[1]?.delayMs).toBe(0);
  });

  it('stops at once, abandoning a delivery that waits to retry', async () => {
    const now = Date.parse('2026-03-01T10:00:00.000Z');
    vi.setSystemTime(now);
    const fires: ClockFire[] = [];
    const clock = startClock(fakeScheduler([rateSchedule(now + 1000, now)]), fakeSqs(true).sqs, fires);
    await vi.advanceTimersByTimeAsync(1500);
    expect(clock.stats.inFlight).toBe(1);
    // No time passes: stop() must not wait for the retry's backoff.
    await clock.stop();
    expect(fires.map((f) => f.outcome)).toEqual(['stopped']);
  });
});
