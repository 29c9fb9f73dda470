import { describe, expect, it } from 'vitest';
import {
  beatEnvelopeFieldSchema,
  DEFAULT_PERIODIC_TASKS,
  defaultPeriodicTasks,
  diffSchedules,
  type PeriodicTask,
  parsePeriodicTask,
  planSync,
  SCHEDULE_RELEVANT_FIELDS,
  type ScheduleRequest,
  scheduleName,
  scheduleRequest,
  streamFilterPatterns,
  translate,
} from '../../shared/beat/index.ts';
import { envelopeSchema } from '../../shared/envelope/schema.ts';

const NOW = new Date('2026-03-01T12:00:20Z');
const TARGET = {
  groupName: 'celerity-beat',
  queueArn: 'arn:aws:sqs:eu-west-1:123456789012:celerity-default',
  roleArn: 'arn:aws:iam::123456789012:role/celerity-scheduler',
  deadLetterArn: 'arn:aws:sqs:eu-west-1:123456789012:celerity-beat-dlq',
  now: NOW,
};

const SCHEDULES = {
  crontab: { crontab: { minute: '0', hour: '9', dayOfWeek: 'mon-fri', dayOfMonth: '1-10' } },
  interval: { interval: { every: 20, period: 'seconds' } },
  solar: { solar: { event: 'sunrise', latitude: 51.5, longitude: -0.12 } },
  clocked: { clocked: { clockedTime: '2026-06-01T08:30:00Z' } },
} as const;
type Kind = keyof typeof SCHEDULES;
const KINDS = Object.keys(SCHEDULES) as Kind[];

const parse = (input: object): PeriodicTask => parsePeriodicTask(input, { now: NOW });
const task = (kind: Kind, extra: object = {}): PeriodicTask =>
  parse({
    name: `job ${kind}`,
    task: 'apps.x.tasks.y',
    kwargs: { a: 1, b: [2] },
    ...SCHEDULES[kind],
    ...extra,
  });

describe('planSync', () => {
  describe.each(KINDS)('%s', (kind) => {
    const base = task(kind);

    it('insert → create with the full request', () => {
      const action = planSync(undefined, base, TARGET);
      expect(action.kind).toBe('create');
      if (action.kind !== 'create') return;
      expect(action.request.Name).toBe(scheduleName(base.name));
      expect(action.request.ScheduleExpression).toBe(translate(base, { now: NOW }).expression);
      expect(action.request.ActionAfterCompletion).toBe('NONE');
      expect(action.request.FlexibleTimeWindow).toEqual({ Mode: 'OFF' });
    });

    it('remove → delete by schedule name', () => {
      expect(planSync(base, undefined, TARGET)).toMatchObject({
        kind: 'delete',
        request: { Name: scheduleName(base.name), GroupName: TARGET.groupName },
      });
    });

    it('a modify that changes the schedule → update', () => {
      const changed = task(kind, { enabled: false });
      const action = planSync(base, changed, TARGET);
      expect(action).toMatchObject({ kind: 'update', changed: ['enabled'] });
      if (action.kind === 'update') expect(action.request.State).toBe('DISABLED');
    });

    const statsOnly: [string, object][] = [
      ['lastRunAt set', { lastRunAt: '2026-03-01T12:00:00Z' }],
      ['lastRunAt moved', { lastRunAt: '2026-03-02T09:00:00Z' }],
      ['totalRunCount 1', { totalRunCount: 1 }],
      ['totalRunCount 10,000', { totalRunCount: 10_000 }],
      ['both statistics', { lastRunAt: '2026-03-01T12:01:00Z', totalRunCount: 2 }],
      ['dateChanged', { dateChanged: '2026-03-01T12:00:00Z' }],
      ['description', { description: 'now with words' }],
      ['description emptied', { description: '' }],
      [
        'all non-relevant at once',
        { lastRunAt: '2026-03-01T12:05:00+01:00', totalRunCount: 7, description: 'x' },
      ],
      ['kwargs in another key order', { kwargs: { b: [2], a: 1 } }],
      ['the same values written again', {}],
      ['statistics with an offset zone', { lastRunAt: '2026-03-01T13:00:00+01:00', totalRunCount: 3 }],
    ];
    it.each(statsOnly)('only %s → none', (_label, extra) => {
      // one-off tasks are disabled after a run by a separate, relevant `enabled` write
      const after = task(kind, extra);
      expect(planSync(base, after, TARGET)).toMatchObject({ kind: 'none' });
    });
  });

  const relevant: [string, object][] = [
    ['name', { name: 'job renamed' }],
    ['task', { task: 'apps.x.tasks.z' }],
    ['args', { args: [1] }],
    ['kwargs', { kwargs: { a: 2, b: [2] } }],
    ['queue', { queue: 'high' }],
    ['headers', { headers: { h: 1 } }],
    ['priority', { priority: 5 }],
    ['expires', { expires: '2027-01-01T00:00:00Z' }],
    ['expireSeconds', { expireSeconds: 300 }],
    ['startTime', { startTime: '2026-04-01T00:00:00Z' }],
    ['enabled', { enabled: false }],
    ['oneOff', { oneOff: true }],
    ['crontab', { crontab: { minute: '30', hour: '9', dayOfWeek: 'mon-fri', dayOfMonth: '1-10' } }],
  ];
  it('the table covers every schedule-relevant field but the other kinds', () => {
    expect(new Set([...relevant.map(([f]) => f), 'interval', 'solar', 'clocked'])).toEqual(
      new Set(SCHEDULE_RELEVANT_FIELDS),
    );
  });
  it.each(relevant)('a change to %s → update', (field, extra) => {
    const action = planSync(task('crontab'), task('crontab', extra), TARGET);
    expect(action).toMatchObject({ kind: 'update', changed: [field] });
  });
  it.each([
    ['interval', { interval: { every: 30, period: 'seconds' } }],
    ['solar', { solar: { event: 'sunset', latitude: 51.5, longitude: -0.12 } }],
    ['clocked', { clocked: { clockedTime: '2026-06-01T08:31:00Z' } }],
  ] as const)('a change to the %s → update', (kind, extra) => {
    expect(planSync(task(kind), task(kind, extra), TARGET)).toMatchObject({
      kind: 'update',
      changed: [kind],
    });
  });
  it('a change of schedule kind → update naming both', () => {
    const action = planSync(
      task('crontab'),
      parse({ ...task('crontab'), crontab: undefined, ...SCHEDULES.interval }),
      TARGET,
    );
    expect(action).toMatchObject({ kind: 'update', changed: ['crontab', 'interval'] });
  });
  it('a rename → update of the new schedule, replacing the old one', () => {
    const action = planSync(task('crontab'), task('crontab', { name: 'other' }), TARGET);
    expect(action).toMatchObject({ kind: 'update', replaces: scheduleName('job crontab') });
    if (action.kind === 'update') expect(action.request.Name).toBe(scheduleName('other'));
  });
});

describe('streamFilterPatterns', () => {
  it('passes inserts and removes, and modifies not marked as run statistics', () => {
    const patterns = streamFilterPatterns().Filters.map((f) => JSON.parse(f.Pattern));
    expect(patterns).toEqual([
      { eventName: ['INSERT', 'REMOVE'] },
      { eventName: ['MODIFY'], dynamodb: { NewImage: { lastWrite: { S: [{ 'anything-but': ['run'] }] } } } },
      { eventName: ['MODIFY'], dynamodb: { NewImage: { lastWrite: { S: [{ exists: false }] } } } },
    ]);
    expect(patterns.length).toBeLessThanOrEqual(5); // Lambda's default quota of filters
  });
});

describe('schedule Input', () => {
  const sample = (request: ScheduleRequest) =>
    JSON.parse(
      request.Target.Input.replace(
        '<aws.scheduler.execution-id>',
        '6c9b3f3e-52a1-4f7e-9d3c-1f2a3b4c5d6e',
      ).replace('<aws.scheduler.scheduled-time>', '2026-03-02T09:00:00Z'),
    );

  it.each(KINDS)('%s: the envelope passes envelopeSchema after substitution', (kind) => {
    const definition = task(kind, { queue: 'high', expires: '2027-01-01T00:00:00Z', headers: { h: 'v' } });
    const request = scheduleRequest(definition, translate(definition, { now: NOW }), TARGET);
    expect(() => JSON.parse(request.Target.Input)).not.toThrow();
    const envelope = sample(request);
    const parsed = envelopeSchema.safeParse(envelope);
    expect(parsed.success).toBe(true);
    // The worker receives the `beat` object whole: guard, expansion and the rest survive parsing.
    expect(parsed.data?.beat).toEqual(envelope.beat);
    expect(beatEnvelopeFieldSchema.safeParse(envelope.beat).success).toBe(true);
    expect(envelope).toMatchObject({
      v: 1,
      task: 'apps.x.tasks.y',
      kwargs: { a: 1, b: [2] },
      queue: 'high',
      periodicTask: definition.name,
      origin: 'beat',
      expires: '2027-01-01T00:00:00.000Z',
      beat: { scheduledAt: '2026-03-02T09:00:00Z', headers: { h: 'v' } },
    });
  });

  it('carries guard, expansion, rearm and oneOff from the plan', () => {
    const beatOf = (kind: Kind) => {
      const d = task(kind);
      return JSON.parse(scheduleRequest(d, translate(d, { now: NOW }), TARGET).Target.Input).beat;
    };
    expect(beatOf('crontab').guard).toEqual({ timezone: 'UTC', daysOfWeek: [1, 2, 3, 4, 5] });
    expect(beatOf('interval').expansion).toEqual({ everySeconds: 20, count: 3 });
    expect(beatOf('solar').rearm).toBe(true);
    expect(beatOf('clocked').oneOff).toBe(true);
  });

  it('expireSeconds goes to the worker, not a static expires', () => {
    const d = task('crontab', { expireSeconds: 60, expires: '2027-01-01T00:00:00Z' });
    const envelope = JSON.parse(scheduleRequest(d, translate(d, { now: NOW }), TARGET).Target.Input);
    expect(envelope.expires).toBeUndefined();
    expect(envelope.beat.expireSeconds).toBe(60);
  });

  it('targets the queue of the route, with retry policy and dead-letter queue', () => {
    const d = task('crontab', { queue: 'high' });
    const request = scheduleRequest(d, translate(d, { now: NOW }), {
      ...TARGET,
      queueArn: ({ queue }) => `arn:aws:sqs:eu-west-1:123456789012:celerity-${queue ?? 'default'}`,
    });
    expect(request.Target).toMatchObject({
      Arn: 'arn:aws:sqs:eu-west-1:123456789012:celerity-high',
      RoleArn: TARGET.roleArn,
      RetryPolicy: { MaximumRetryAttempts: 10, MaximumEventAgeInSeconds: 900 },
      DeadLetterConfig: { Arn: TARGET.deadLetterArn },
    });
    expect(request.Description).toBe('Celerity periodic task: job crontab');
  });
});

describe('diffSchedules', () => {
  const requests = KINDS.map((kind) => {
    const d = task(kind);
    return scheduleRequest(d, translate(d, { now: NOW }), TARGET);
  });
  const desired = new Map(requests.map((r) => [r.Name, r]));
  const asActual = (r: ScheduleRequest) => structuredClone(r);

  it('finds nothing when the group matches the table', () => {
    const actual = new Map(requests.map((r) => [r.Name, asActual(r)]));
    expect(diffSchedules(desired, actual, { now: NOW })).toEqual({ create: [], update: [], delete: [] });
  });

  it('finds missing, extra and hand-modified schedules', () => {
    const [missing, edited, ...rest] = requests as [ScheduleRequest, ScheduleRequest, ...ScheduleRequest[]];
    const hand = asActual(edited);
    hand.ScheduleExpression = 'rate(5 minutes)';
    hand.Target.Input = hand.Target.Input.replace('"a":1', '"a":2');
    const actual = new Map<string, ReturnType<typeof asActual>>([
      [edited.Name, hand],
      ...rest.map((r) => [r.Name, asActual(r)] as const),
      ['stray-000000000000', { ...asActual(missing), Name: 'stray-000000000000' }],
    ]);
    const diff = diffSchedules(desired, actual, { now: NOW });
    expect(diff.create.map((r) => r.Name)).toEqual([missing.Name]);
    expect(diff.update).toEqual([{ request: edited, differences: ['ScheduleExpression', 'Target.Input'] }]);
    expect(diff.delete).toEqual(['stray-000000000000']);
  });

  it.each([
    ['State', (s: ScheduleRequest) => Object.assign(s, { State: 'DISABLED' })],
    [
      'ScheduleExpressionTimezone',
      (s: ScheduleRequest) => Object.assign(s, { ScheduleExpressionTimezone: 'Europe/Paris' }),
    ],
    ['EndDate', (s: ScheduleRequest) => Object.assign(s, { EndDate: new Date('2030-01-01T00:00:00Z') })],
    [
      'Target.Arn',
      (s: ScheduleRequest) => Object.assign(s.Target, { Arn: 'arn:aws:sqs:eu-west-1:1:other' }) && s,
    ],
    [
      'Target.RoleArn',
      (s: ScheduleRequest) => Object.assign(s.Target, { RoleArn: 'arn:aws:iam::1:role/x' }) && s,
    ],
  ] as const)('a hand-edited %s is an update', (field, edit) => {
    const request = requests[0] as ScheduleRequest;
    const diff = diffSchedules(
      new Map([[request.Name, request]]),
      new Map([[request.Name, edit(asActual(request))]]),
      {
        now: NOW,
      },
    );
    expect(diff.update[0]?.differences).toEqual([field]);
  });

  it('an Input reformatted by the console is not a difference', () => {
    const request = requests[0] as ScheduleRequest;
    const actual = asActual(request);
    actual.Target.Input = JSON.stringify(JSON.parse(actual.Target.Input), null, 2);
    expect(
      diffSchedules(new Map([[request.Name, request]]), new Map([[request.Name, actual]]), { now: NOW })
        .update,
    ).toEqual([]);
  });

  it('a running rate() schedule in phase with the recomputed start is the same', () => {
    const d = task('interval');
    const later = new Date(NOW.getTime() + 3_600_000 + 7_000);
    const first = scheduleRequest(d, translate(d, { now: NOW }), TARGET);
    const again = scheduleRequest(d, translate(d, { now: later }), { ...TARGET, now: later });
    expect(again.StartDate).not.toEqual(first.StartDate);
    const name = first.Name;
    expect(diffSchedules(new Map([[name, again]]), new Map([[name, first]]), { now: later }).update).toEqual(
      [],
    );
    const shifted = { ...first, StartDate: new Date((first.StartDate as Date).getTime() + 30_000) };
    expect(
      diffSchedules(new Map([[name, again]]), new Map([[name, shifted]]), { now: later }).update[0]
        ?.differences,
    ).toEqual(['StartDate']);
  });
});

describe('defaults', () => {
  it('the seed setup_periodic_tasks definitions parse and plan', () => {
    const [reminders, cleanup] = defaultPeriodicTasks({ now: NOW, defaultTimezone: 'UTC' });
    expect(DEFAULT_PERIODIC_TASKS.map((d) => d.name)).toEqual([
      'Send Appointment Reminders',
      'Cleanup Old Notifications',
    ]);
    expect(reminders?.task).toBe('apps.appointments.tasks.send_appointment_reminders');
    expect(translate(reminders as PeriodicTask, { now: NOW }).expression).toBe('cron(0 9 * * ? *)');
    expect(cleanup?.task).toBe('apps.notifications.tasks.cleanup_old_notifications');
    expect(translate(cleanup as PeriodicTask, { now: NOW }).expression).toBe('cron(0 2 ? * 1 *)');
  });
});
