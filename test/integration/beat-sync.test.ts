import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  GetScheduleCommand,
  type GetScheduleOutput,
  ListSchedulesCommand,
  UpdateScheduleCommand,
} from '@aws-sdk/client-scheduler';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { createBeatSync, createPeriodicTaskStore } from '../../shared/app.ts';
import { nextSolarEvent, type PeriodicTaskInput, scheduleName } from '../../shared/beat/index.ts';
import { PeriodicTaskStore } from '../../shared/beat/store.ts';
import type { BeatSync } from '../../shared/beat/sync.ts';
import type { CelerityConfig } from '../../shared/config/index.ts';
import { ValidationError } from '../../shared/errors.ts';
import { BAD_DEFINITIONS, BAD_DEFINITIONS_NOW, KNOWN_TASKS } from '../support/bad-definitions.ts';
import { useEmulator } from '../support/emulator.ts';
import { type ProvisionedStack, provisionStack } from '../support/stack.ts';
import { StreamTail } from '../support/stream-tail.ts';

useEmulator();

const TASK = 'apps.demo.tasks.add';
const SOLAR_EVENTS = ['sunrise', 'sunset', 'solar_noon', 'dawn_civil', 'dusk_nautical'] as const;

interface Expected {
  expression: string;
  timezone: string;
  state: 'ENABLED' | 'DISABLED';
  queue: string;
  startDate?: Date;
  endDate?: Date;
  guard?: unknown;
  expansion?: unknown;
}

const iso = (t: number) => new Date(t).toISOString().replace('.000Z', 'Z');
const atText = (t: number) => `at(${new Date(Math.ceil(t / 1000) * 1000).toISOString().slice(0, 19)})`;
const ceilMinute = (t: number) => Math.ceil(t / 60_000) * 60_000;

/**
 * 200 definitions, 50 of each kind, with what their schedule must hold written out by hand from
 * EventBridge's rules (not from the translator): cron fields, rate units, at() in UTC seconds.
 */
function twoHundred(now: number): { input: PeriodicTaskInput; expect: (written: number) => Expected }[] {
  const out: { input: PeriodicTaskInput; expect: (written: number) => Expected }[] = [];
  const queues = ['default', 'heavy', 'notifications'];
  for (let i = 0; i < 50; i++) {
    const queue = queues[i % 3] as string;
    const name = `crontab ${i}`;
    const variants: [PeriodicTaskInput['crontab'], string, string, unknown?][] = [
      [{ minute: String(i), hour: String(i % 24) }, `cron(${i} ${i % 24} * * ? *)`, 'UTC'],
      [
        { minute: '*/15', hour: '9-17', dayOfWeek: 'mon-fri', timezone: 'Europe/London' },
        'cron(0/15 9-17 ? * 2-6 *)',
        'Europe/London',
      ],
      [
        { minute: '30', hour: '2', dayOfMonth: '1', timezone: 'America/New_York' },
        'cron(30 2 1 * ? *)',
        'America/New_York',
      ],
      [
        { minute: '0', hour: '8', dayOfMonth: '1-7', dayOfWeek: '1', timezone: 'Asia/Tokyo' },
        'cron(0 8 ? * 2#1 *)',
        'Asia/Tokyo',
      ],
      [
        { minute: '0', hour: '12', dayOfMonth: '13', dayOfWeek: 'fri', timezone: 'Australia/Sydney' },
        'cron(0 12 13 * ? *)',
        'Australia/Sydney',
        { timezone: 'Australia/Sydney', daysOfWeek: [5] },
      ],
    ];
    const [crontab, expression, timezone, guard] = variants[i % variants.length] as (typeof variants)[0];
    const disabled = i % 7 === 3;
    const expires = i % 10 === 4 ? now + 30 * 86_400_000 : undefined;
    const start = i % 10 === 6 ? ceilMinute(now + 86_400_000) : undefined;
    out.push({
      input: {
        name,
        task: TASK,
        args: [i, 1],
        crontab,
        queue,
        enabled: !disabled,
        ...(expires ? { expires: iso(expires) } : {}),
        ...(start ? { startTime: iso(start) } : {}),
      },
      expect: () => ({
        expression,
        timezone,
        state: disabled ? 'DISABLED' : 'ENABLED',
        queue,
        // A disabled schedule has nothing to end; its end date is written when it is enabled.
        ...(expires && !disabled ? { endDate: new Date(expires) } : {}),
        ...(start ? { startDate: new Date(start) } : {}),
        ...(guard ? { guard } : {}),
      }),
    });
  }
  for (let i = 0; i < 50; i++) {
    const kinds = [
      {
        every: (i % 9) + 1,
        period: 'minutes',
        text: `rate(${(i % 9) + 1} minute${i % 9 ? 's' : ''})`,
        s: 60,
      },
      { every: (i % 5) + 1, period: 'hours', text: `rate(${(i % 5) + 1} hour${i % 5 ? 's' : ''})`, s: 3600 },
      { every: 2, period: 'days', text: 'rate(2 days)', s: 86_400 },
      {
        every: 20,
        period: 'seconds',
        text: 'rate(1 minute)',
        s: 1,
        expansion: { everySeconds: 20, count: 3 },
      },
      {
        every: 90,
        period: 'seconds',
        text: 'rate(3 minutes)',
        s: 1,
        expansion: { everySeconds: 90, count: 2 },
      },
    ] as const;
    const kind = kinds[i % kinds.length] as (typeof kinds)[number];
    out.push({
      input: { name: `interval ${i}`, task: TASK, interval: { every: kind.every, period: kind.period } },
      // django-celery-beat: first run one interval after the row was written, here on a whole minute.
      expect: (written) => ({
        expression: kind.text,
        timezone: 'UTC',
        state: 'ENABLED',
        queue: 'default',
        startDate: new Date(ceilMinute(written + kind.every * kind.s * 1000)),
        ...('expansion' in kind ? { expansion: kind.expansion } : {}),
      }),
    });
  }
  for (let i = 0; i < 50; i++) {
    const solar = {
      event: SOLAR_EVENTS[i % SOLAR_EVENTS.length] as (typeof SOLAR_EVENTS)[number],
      latitude: -60 + i * 2.5,
      longitude: -170 + i * 7,
    };
    out.push({
      input: { name: `solar ${i}`, task: TASK, solar },
      expect: (written) => ({
        expression: atText((nextSolarEvent(solar, new Date(written)) as Date).getTime()),
        timezone: 'UTC',
        state: 'ENABLED',
        queue: 'default',
      }),
    });
  }
  for (let i = 0; i < 50; i++) {
    const at = Math.floor(now / 1000) * 1000 + (i + 1) * 3_600_000 + 17_000;
    out.push({
      input: { name: `clocked ${i}`, task: TASK, clocked: { clockedTime: iso(at) }, queue: 'heavy' },
      expect: () => ({ expression: atText(at), timezone: 'UTC', state: 'ENABLED', queue: 'heavy' }),
    });
  }
  return out;
}

let stack: ProvisionedStack;
let config: CelerityConfig;
let store: PeriodicTaskStore;
let sync: BeatSync;
let tail: StreamTail;

async function getSchedule(periodicTask: string): Promise<GetScheduleOutput | undefined> {
  try {
    return await stack.clients.scheduler.send(
      new GetScheduleCommand({ Name: scheduleName(periodicTask), GroupName: config.beat?.groupName }),
    );
  } catch (error) {
    if ((error as Error).name === 'ResourceNotFoundException') return undefined;
    throw error;
  }
}

/** Feeds what the stream holds since last time to the sync function, as its mapping would. */
async function syncFromStream(): Promise<number> {
  const records = await tail.next();
  for (let start = 0; start < records.length; start += 100) {
    const response = await sync.handleStream(records.slice(start, start + 100));
    expect(response.batchItemFailures).toEqual([]);
  }
  return records.length;
}

async function tableItems(): Promise<Record<string, unknown>[]> {
  const { Items = [] } = await stack.clients.dynamo.send(
    new ScanCommand({ TableName: config.beat?.table, ConsistentRead: true }),
  );
  return Items;
}

beforeAll(async () => {
  stack = await provisionStack();
  config = stack.config;
  if (!config.beat) throw new Error('the stack gives its functions no periodic-tasks table');
  store = createPeriodicTaskStore({ config, clients: stack.clients, registry: false });
  sync = createBeatSync({
    config,
    clients: stack.clients,
    logger: { debug() {}, info() {}, warn() {}, error() {} },
  });
  const table = Object.values(stack.resources.tables).find((t) => t.name === config.beat?.table);
  if (!table?.streamArn) throw new Error('the periodic-tasks table has no stream');
  tail = new StreamTail(table.streamArn);
});

describe('beat sync against the emulator', () => {
  it('turns 200 definitions of all four kinds into exactly the schedules they need', async () => {
    const now = Date.now();
    const cases = twoHundred(now);
    const written = new Map<string, number>();
    for (const { input } of cases) {
      const definition = await store.add(input);
      written.set(definition.name, Date.parse(definition.dateChanged as string));
    }
    expect(await syncFromStream()).toBe(200);

    const groups = config.beat?.groupName;
    for (const { input, expect: expected } of cases) {
      const want = expected(written.get(input.name) as number);
      const schedule = await getSchedule(input.name);
      expect(schedule, input.name).toBeDefined();
      const s = schedule as GetScheduleOutput;
      expect({
        name: input.name,
        expression: s.ScheduleExpression,
        timezone: s.ScheduleExpressionTimezone,
      }).toEqual({ name: input.name, expression: want.expression, timezone: want.timezone });
      expect(s.GroupName).toBe(groups);
      expect(s.State, input.name).toBe(want.state);
      expect(s.StartDate?.getTime(), `${input.name} StartDate`).toBe(want.startDate?.getTime());
      expect(s.EndDate?.getTime(), `${input.name} EndDate`).toBe(want.endDate?.getTime());
      expect(s.Target?.Arn).toBe(config.queues[want.queue]?.arn);
      expect(s.Target?.RoleArn).toBe(config.scheduler?.roleArn);
      expect(s.Target?.DeadLetterConfig?.Arn).toBe(config.scheduler?.deadLetterArn);
      expect(s.Target?.RetryPolicy).toEqual({ MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 900 });
      expect(s.Description).toBe(`Celerity periodic task: ${input.name}`);
      const envelope = JSON.parse(s.Target?.Input as string);
      expect(envelope).toMatchObject({
        v: 1,
        id: '<aws.scheduler.execution-id>',
        task: TASK,
        args: input.args ?? [],
        kwargs: {},
        periodicTask: input.name,
        origin: 'beat',
        beat: { scheduledAt: '<aws.scheduler.scheduled-time>' },
      });
      expect(envelope.beat.guard, input.name).toEqual(want.guard);
      expect(envelope.beat.expansion, input.name).toEqual(want.expansion);
      expect(envelope.beat.rearm, input.name).toBe(input.solar ? true : undefined);
      expect(envelope.beat.oneOff, input.name).toBe(input.clocked ? true : undefined);
    }
  });

  it('updates, disables, enables and deletes the schedule with its definition', async () => {
    await store.update('crontab 0', { crontab: { minute: '5', hour: '6' } });
    await store.setEnabled('interval 0', false);
    await store.setEnabled('crontab 3', true); // 3 % 7 === 3: added disabled
    await store.update('solar 1', { interval: { every: 10, period: 'minutes' } });
    await store.remove('clocked 0');
    await syncFromStream();

    expect((await getSchedule('crontab 0'))?.ScheduleExpression).toBe('cron(5 6 * * ? *)');
    expect((await getSchedule('interval 0'))?.State).toBe('DISABLED');
    expect((await getSchedule('crontab 3'))?.State).toBe('ENABLED');
    const switched = await getSchedule('solar 1');
    expect(switched?.ScheduleExpression).toBe('rate(10 minutes)');
    expect(JSON.parse(switched?.Target?.Input as string).beat.rearm).toBeUndefined();
    expect(await getSchedule('clocked 0')).toBeUndefined();

    await store.setEnabled('interval 0', true);
    await syncFromStream();
    expect((await getSchedule('interval 0'))?.State).toBe('ENABLED');
  });

  it('makes zero Scheduler calls for run statistics and for changes nothing on the schedule depends on', async () => {
    const names = ['crontab 1', 'interval 2', 'solar 3', 'crontab 2'];
    // As the worker records them: each run's scheduled time, in phase with the schedule.
    const first = (await getSchedule('interval 2'))?.StartDate?.getTime() as number;
    for (let run = 0; run < 5; run++) {
      const lastRunAt = new Date(first + run * 2 * 86_400_000).toISOString();
      await store.recordRuns(names.map((name) => ({ name, count: 1, lastRunAt })));
    }
    await store.update('crontab 1', { description: 'only words changed' });
    const records = await tail.next();
    expect(records.length).toBe(21);
    stack.clients.requests.reset();
    const response = await sync.handleStream(records);
    expect(response.batchItemFailures).toEqual([]);
    const scheduler = ['CreateSchedule', 'UpdateSchedule', 'DeleteSchedule', 'GetSchedule', 'ListSchedules'];
    const snapshot = stack.clients.requests.snapshot();
    for (const operation of scheduler) expect(snapshot[operation] ?? 0, operation).toBe(0);
    expect((await store.get('interval 2'))?.totalRunCount).toBe(5);
  });

  it('reconcile repairs a deleted, an extra and a hand-modified schedule, then finds nothing to do', async () => {
    const scheduler = stack.clients.scheduler;
    const group = config.beat?.groupName as string;
    await scheduler.send(new DeleteScheduleCommand({ Name: scheduleName('crontab 10'), GroupName: group }));
    const modified = (await getSchedule('interval 11')) as GetScheduleOutput;
    await scheduler.send(
      new UpdateScheduleCommand({
        Name: modified.Name,
        GroupName: group,
        ScheduleExpression: 'rate(7 minutes)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: modified.Target,
      }),
    );
    await scheduler.send(
      new CreateScheduleCommand({
        Name: 'made-by-hand',
        GroupName: group,
        ScheduleExpression: 'rate(1 hour)',
        FlexibleTimeWindow: { Mode: 'OFF' },
        Target: modified.Target,
      }),
    );

    const report = await sync.reconcile();
    expect(report.created).toEqual([scheduleName('crontab 10')]);
    expect(report.deleted).toEqual(['made-by-hand']);
    expect(report.updated.map((u) => u.name)).toEqual([scheduleName('interval 11')]);
    expect(report.updated[0]?.differences).toContain('ScheduleExpression');
    expect(report.failed).toEqual([]);
    expect(report.checked).toBe(199);

    expect((await getSchedule('crontab 10'))?.ScheduleExpression).toBe('cron(10 10 * * ? *)');
    expect((await getSchedule('interval 11'))?.ScheduleExpression).toBe('rate(2 hours)');
    const listed = await scheduler.send(new ListSchedulesCommand({ GroupName: group, MaxResults: 100 }));
    expect(listed.Schedules?.some((s) => s.Name === 'made-by-hand')).toBe(false);

    const again = await sync.reconcile();
    expect({ ...again, checked: 0 }).toEqual({
      checked: 0,
      created: [],
      updated: [],
      deleted: [],
      invalid: [],
      failed: [],
    });
  });
});

describe('periodic-task store', () => {
  let before: Record<string, unknown>[];
  const strict = () =>
    new PeriodicTaskStore({
      dynamo: stack.clients.dynamo,
      table: config.beat?.table as string,
      knownTask: (name) => KNOWN_TASKS.has(name),
      defaultTimezone: 'Europe/London',
      clock: () => BAD_DEFINITIONS_NOW,
    });

  it(`refuses ${BAD_DEFINITIONS.length} kinds of bad definitions, naming the field`, async () => {
    expect(BAD_DEFINITIONS.length).toBeGreaterThanOrEqual(40);
    await syncFromStream();
    before = await tableItems();
  });

  it.each(BAD_DEFINITIONS)('refuses %s', async (_what, input, field, text) => {
    const error = await strict()
      .add(input as PeriodicTaskInput)
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ValidationError);
    const issue = (error as ValidationError).issues.find((i) => i.field === field);
    expect(issue?.message, (error as Error).message).toContain(text);
  });

  it('and the table is unchanged: the same rows, and not one record on its stream', async () => {
    expect(await tail.next()).toEqual([]);
    expect(await tableItems()).toEqual(before);
  });

  it('sets up the default periodic tasks once; running it again changes nothing', async () => {
    const first = await store.setupDefaults();
    expect(first).toEqual({
      created: ['Send Appointment Reminders', 'Cleanup Old Notifications'],
      existing: [],
    });
    await store.recordRuns([
      { name: 'Send Appointment Reminders', count: 3, lastRunAt: '2026-11-25T09:00:00Z' },
    ]);
    const before = await store.get('Send Appointment Reminders');
    const second = await store.setupDefaults();
    expect(second).toEqual({
      created: [],
      existing: ['Send Appointment Reminders', 'Cleanup Old Notifications'],
    });
    expect(await store.get('Send Appointment Reminders')).toEqual(before);
    await syncFromStream();
    expect((await getSchedule('Send Appointment Reminders'))?.ScheduleExpression).toBe('cron(0 9 * * ? *)');
    expect((await getSchedule('Cleanup Old Notifications'))?.ScheduleExpression).toBe('cron(0 2 ? * 1 *)');
  });

  it('lists periodic tasks by name a page at a time, from the index', async () => {
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await store.list({ limit: 37, ...(cursor ? { cursor } : {}) });
      for (const item of page.items) seen.push(item.name);
      cursor = page.cursor;
    } while (cursor);
    expect(seen.length).toBe((await tableItems()).length);
    expect(seen).toEqual([...seen].sort());
    await expect(store.list({ cursor: 'nonsense' })).rejects.toThrow(/cursor/);
  });
});
