import { setTimeout as sleep } from 'node:timers/promises';
import {
  CreateScheduleCommand,
  type CreateScheduleCommandInput,
  CreateScheduleGroupCommand,
  GetScheduleCommand,
} from '@aws-sdk/client-scheduler';
import {
  CreateQueueCommand,
  GetQueueAttributesCommand,
  type Message,
  ReceiveMessageCommand,
} from '@aws-sdk/client-sqs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type ClockFire, SchedulerClock } from '../../localstack/scheduler/scheduler-clock.ts';
import { type AwsClients, createAwsClients } from '../../shared/aws/index.ts';
import { useEmulator } from '../support/emulator.ts';

const REGION = 'us-east-1';
const GROUP = 'clock-test';
const ROLE = 'arn:aws:iam::123456789012:role/scheduler';
const INPUT = JSON.stringify({
  id: '<aws.scheduler.execution-id>',
  at: '<aws.scheduler.scheduled-time>',
  arn: '<aws.scheduler.schedule-arn>',
  attempt: '<aws.scheduler.attempt-number>',
});
const { endpoint } = useEmulator();
let clients: AwsClients;
let clock: SchedulerClock;
const fires: ClockFire[] = [];

async function queue(name: string): Promise<{ url: string; arn: string }> {
  const url = (await clients.sqs.send(new CreateQueueCommand({ QueueName: name }))).QueueUrl as string;
  const attrs = await clients.sqs.send(
    new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }),
  );
  return { url, arn: attrs.Attributes?.QueueArn as string };
}

async function schedule(
  name: string,
  arn: string,
  fields: Partial<CreateScheduleCommandInput>,
): Promise<void> {
  await clients.scheduler.send(
    new CreateScheduleCommand({
      Name: name,
      GroupName: GROUP,
      ScheduleExpression: 'rate(1 minute)',
      FlexibleTimeWindow: { Mode: 'OFF' },
      ...fields,
      Target: { Arn: arn, RoleArn: ROLE, Input: INPUT, ...fields.Target },
    }),
  );
}

async function drain(url: string): Promise<Message[]> {
  const out: Message[] = [];
  for (;;) {
    const got = await clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 0,
        MessageAttributeNames: ['All'],
        MessageSystemAttributeNames: ['All'],
      }),
    );
    if (!got.Messages?.length) return out;
    out.push(...got.Messages);
  }
}

async function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

const wholeSecondsFromNow = (s: number) => new Date(Math.ceil(Date.now() / 1000) * 1000 + s * 1000);
const atText = (d: Date) => `at(${d.toISOString().slice(0, 19)})`;
const iso = (d: Date) => `${d.toISOString().slice(0, 19)}Z`;

beforeAll(async () => {
  clients = createAwsClients({ endpoint, region: REGION });
  await clients.scheduler.send(new CreateScheduleGroupCommand({ Name: GROUP }));
  clock = new SchedulerClock({
    scheduler: clients.scheduler,
    sqs: clients.sqs,
    retryBaseDelayMs: 100,
    onFire: (fire) => fires.push(fire),
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  }).start();
  await clock.refresh();
});

afterAll(async () => {
  await clock?.stop();
});

describe('the scheduler clock against moto', () => {
  // How late a run may fire is a unit test on a fake clock (test/unit/scheduler-clock.test.ts): here,
  // under whatever load shares the machine, each run fires once, at or after its due time.
  it('fires rate, cron and at() runs into their queue once each, never early, as AWS would', async () => {
    const target = await queue('clock-target');
    const now = Date.now();
    const rateStart = wholeSecondsFromNow(4);
    const at = wholeSecondsFromNow(6);
    // The next whole minute that is at least 5 s away, so the clock has read the schedule by then.
    let cronDue = Math.ceil((now + 1) / 60_000) * 60_000;
    if (cronDue - now < 5000) cronDue += 60_000;
    const cronAt = new Date(cronDue);
    const cron = `cron(${cronAt.getUTCMinutes()} ${cronAt.getUTCHours()} * * ? *)`;
    // The same wall time in New York, to check the zone is applied.
    const nyHour = Number(
      new Intl.DateTimeFormat('en-US', {
        timeZone: 'America/New_York',
        hour: 'numeric',
        hourCycle: 'h23',
      }).format(cronAt),
    );
    const nyCron = `cron(${cronAt.getUTCMinutes()} ${nyHour} * * ? *)`;

    // rate(1 minute) runs again 60 s after its start, and this test may still be waiting for its
    // cron then (up to 65 s away): an EndDate leaves the rate one run to fire in this test.
    await schedule('rate', target.arn, {
      StartDate: rateStart,
      EndDate: new Date(rateStart.getTime() + 30_000),
    });
    await schedule('cron', target.arn, { ScheduleExpression: cron });
    await schedule('cron-ny', target.arn, {
      ScheduleExpression: nyCron,
      ScheduleExpressionTimezone: 'America/New_York',
    });
    await schedule('once', target.arn, { ScheduleExpression: atText(at), ActionAfterCompletion: 'DELETE' });
    await schedule('disabled', target.arn, { StartDate: wholeSecondsFromNow(2), State: 'DISABLED' });
    await schedule('ended', target.arn, { EndDate: new Date(now - 1000) });
    // moto stores what AWS would refuse; the clock reports it and never fires it.
    await schedule('bad', target.arn, { ScheduleExpression: 'cron(0 0 * * * *)' });
    await clock.refresh();
    expect(clock.upcoming().find((s) => s.name === 'bad')?.problem).toMatch(/exactly one of/);

    const fired = (name: string) => fires.filter((f) => f.name === name);
    await until('the rate and at() runs', () => fired('rate').length > 0 && fired('once').length > 0, 15_000);
    await until(
      'the cron runs',
      () => fired('cron').length > 0 && fired('cron-ny').length > 0,
      cronDue - Date.now() + 5000,
    );
    // Long enough for a second delivery, had there been one.
    await sleep(1500);

    const expected: Record<string, Date> = { rate: rateStart, once: at, cron: cronAt, 'cron-ny': cronAt };
    const messages = await drain(target.url);
    const bodies = messages.map((m) => JSON.parse(m.Body as string) as Record<string, string>);
    expect(bodies.map((b) => b.arn?.split('/').pop()).sort()).toEqual(Object.keys(expected).sort());
    for (const [name, due] of Object.entries(expected)) {
      const [fire] = fired(name);
      expect(fired(name), name).toHaveLength(1);
      expect(fire?.outcome, name).toBe('delivered');
      expect(fire?.scheduledTime.toISOString(), name).toBe(due.toISOString());
      expect(fire?.delayMs, name).toBeGreaterThanOrEqual(0);
      const message = messages.find((m) => m.MessageId === fire?.messageId);
      const body = JSON.parse(message?.Body as string) as Record<string, string>;
      expect(body, name).toEqual({
        id: fire?.executionId,
        at: iso(due),
        arn: `arn:aws:scheduler:${REGION}:123456789012:schedule/${GROUP}/${name}`,
        attempt: '1',
      });
      expect(body.id).toMatch(/^[0-9a-f]{16}$/);
      // SQS stamps whole milliseconds; the due time is a whole second.
      expect(Number(message?.Attributes?.SentTimestamp), name).toBeGreaterThanOrEqual(due.getTime());
    }
    for (const name of ['disabled', 'ended', 'bad']) expect(fired(name), name).toEqual([]);
    await until('the one-time schedule to delete itself', () => clock.stats.deleted === 1, 5000);
    await expect(
      clients.scheduler.send(new GetScheduleCommand({ Name: 'once', GroupName: GROUP })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect(
      (await clients.scheduler.send(new GetScheduleCommand({ Name: 'rate', GroupName: GROUP }))).Name,
    ).toBe('rate');
  });

  it('sends a run its target refuses to the dead-letter queue, with the reason', async () => {
    const dlq = await queue('clock-dlq');
    const missing = 'arn:aws:sqs:us-east-1:123456789012:clock-no-such-queue';
    const at = wholeSecondsFromNow(2);
    await schedule('to-nowhere', missing, {
      ScheduleExpression: atText(at),
      Target: {
        Arn: missing,
        RoleArn: ROLE,
        RetryPolicy: { MaximumRetryAttempts: 2, MaximumEventAgeInSeconds: 60 },
        DeadLetterConfig: { Arn: dlq.arn },
      },
    });
    await clock.refresh();
    await until('the dead-lettered run', () => fires.some((f) => f.name === 'to-nowhere'), 10_000);
    const fire = fires.find((f) => f.name === 'to-nowhere');
    expect(fire?.outcome).toBe('dead-lettered');
    const [message] = await drain(dlq.url);
    expect(JSON.parse(message?.Body as string)).toMatchObject({ at: iso(at), attempt: '1' });
    expect(message?.MessageAttributes?.ERROR_CODE?.StringValue).toMatch(/QueueDoesNotExist|NonExistentQueue/);
    expect(message?.MessageAttributes?.TARGET_ARN?.StringValue).toBe(missing);
    expect(message?.MessageAttributes?.EXECUTION_ID?.StringValue).toBe(fire?.executionId);
  });

  it('never fires runs due before the clock started, and stops with nothing in flight', async () => {
    const target = await queue('clock-late');
    await schedule('past', target.arn, { StartDate: new Date(Date.now() - 120_000) });
    await clock.refresh();
    const next =
      clock
        .upcoming()
        .find((s) => s.name === 'past')
        ?.next?.getTime() ?? 0;
    expect(next).toBeGreaterThan(Date.now());
    await clock.stop();
    expect(clock.stats.inFlight).toBe(0);
    expect(fires.filter((f) => f.name === 'past')).toEqual([]);
  });
});
