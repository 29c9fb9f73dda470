import {
  ConflictException,
  ResourceNotFoundException,
  type SchedulerClient,
} from '@aws-sdk/client-scheduler';
import { marshall } from '@aws-sdk/util-dynamodb';
import type { DynamoDBRecord } from 'aws-lambda';
import { describe, expect, it } from 'vitest';
import { beatTarget, definitionFromItem, parsePeriodicTask } from '../../shared/beat/index.ts';
import type { PeriodicTaskStore } from '../../shared/beat/store.ts';
import { BeatSync } from '../../shared/beat/sync.ts';
import { resolveConfig } from '../../shared/config/index.ts';
import type { Envelope } from '../../shared/envelope/index.ts';
import { admitPeriodic } from '../../shared/worker/periodic.ts';

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

describe('admitPeriodic', () => {
  const base: Envelope = {
    v: 1,
    id: 'exec-1',
    task: 'a.b',
    args: [],
    kwargs: {},
    retries: 0,
    periodicTask: 'p',
    origin: 'beat',
  } as unknown as Envelope;
  const scheduledAt = Date.parse('2026-11-25T10:00:00Z');

  it('passes a message without beat instructions through unchanged', () => {
    expect(admitPeriodic(base, scheduledAt)).toEqual({ kind: 'run', envelope: base, later: [] });
  });

  it('skips a tick on a day the guard excludes and runs one on a day it allows', () => {
    const guarded = (at: string) =>
      ({ ...base, beat: { scheduledAt: at, guard: { timezone: 'UTC', daysOfWeek: [5] } } }) as Envelope;
    expect(admitPeriodic(guarded('2026-11-26T12:00:00Z'), scheduledAt).kind).toBe('skip'); // Thursday
    expect(admitPeriodic(guarded('2026-11-27T12:00:00Z'), scheduledAt).kind).toBe('run'); // Friday
  });

  it('fans a trigger out into runs counted from its scheduled time, not from its arrival', () => {
    const trigger = {
      ...base,
      beat: {
        scheduledAt: '2026-11-25T10:00:00Z',
        expansion: { everySeconds: 15, count: 4 },
        expireSeconds: 10,
      },
    } as Envelope;
    // Delivered 7 s late: the runs still land on :00, :15, :30 and :45.
    const admission = admitPeriodic(trigger, scheduledAt + 7_000);
    if (admission.kind !== 'run') throw new Error('expected a run');
    expect(admission.envelope.id).toBe('exec-1-0');
    expect(admission.envelope.eta).toBeUndefined();
    expect(admission.envelope.expires).toBe('2026-11-25T10:00:10.000Z');
    expect(
      admission.later.map(({ envelope, delaySeconds }) => [envelope.id, envelope.eta, delaySeconds]),
    ).toEqual([
      ['exec-1-1', '2026-11-25T10:00:15.000Z', 8],
      ['exec-1-2', '2026-11-25T10:00:30.000Z', 23],
      ['exec-1-3', '2026-11-25T10:00:45.000Z', 38],
    ]);
    for (const { envelope } of admission.later) expect(envelope.beat?.expansion).toBeUndefined();
    expect(admission.later[2]?.envelope.expires).toBe('2026-11-25T10:00:55.000Z');
  });

  it('keeps an absolute expires over expireSeconds', () => {
    const envelope = {
      ...base,
      expires: '2026-12-01T00:00:00.000Z',
      beat: { scheduledAt: '2026-11-25T10:00:00Z', expireSeconds: 10 },
    } as Envelope;
    const admission = admitPeriodic(envelope, scheduledAt);
    expect(admission.kind === 'run' && admission.envelope.expires).toBe('2026-12-01T00:00:00.000Z');
  });
});

/** A Scheduler that fails as told, recording every call. */
function fakeScheduler(fail: (command: string, name: string) => Error | undefined) {
  const calls: string[] = [];
  const client = {
    async send(command: { constructor: { name: string }; input: { Name?: string } }) {
      const operation = command.constructor.name.replace(/Command$/, '');
      calls.push(`${operation} ${command.input.Name}`);
      const error = fail(operation, command.input.Name ?? '');
      if (error) throw error;
      return {};
    },
  } as unknown as SchedulerClient;
  return { client, calls };
}

const definition = (name: string, extra: Record<string, unknown> = {}) => ({
  ...parsePeriodicTask(
    { name, task: 'a.b', crontab: { minute: '0', hour: '9' }, ...extra },
    { now: new Date('2026-11-25T00:00:00Z') },
  ),
  dateChanged: '2026-11-25T00:00:00.000Z',
  lastWrite: 'definition',
});

function record(
  sequence: string,
  eventName: 'INSERT' | 'MODIFY' | 'REMOVE',
  images: { old?: object; new?: object },
): DynamoDBRecord {
  const name = ((images.new ?? images.old) as { name: string }).name;
  return {
    eventName,
    dynamodb: {
      SequenceNumber: sequence,
      Keys: marshall({ name }),
      ...(images.old ? { OldImage: marshall(images.old, { removeUndefinedValues: true }) } : {}),
      ...(images.new ? { NewImage: marshall(images.new, { removeUndefinedValues: true }) } : {}),
    },
  } as unknown as DynamoDBRecord;
}

function sync(client: SchedulerClient) {
  return new BeatSync({
    scheduler: client,
    store: {} as PeriodicTaskStore,
    target: { groupName: 'g', roleArn: 'arn:role', queueArn: 'arn:queue' },
    logger: quiet,
  });
}

describe('BeatSync.handleStream error paths', () => {
  it('updates when a created schedule already exists, and creates when an updated one is missing', async () => {
    const { client, calls } = fakeScheduler((operation, name) => {
      if (operation === 'CreateSchedule' && name.startsWith('a-'))
        return new ConflictException({ message: 'exists', Message: 'exists', $metadata: {} });
      if (operation === 'UpdateSchedule' && name.startsWith('b-'))
        return new ResourceNotFoundException({ message: 'missing', Message: 'missing', $metadata: {} });
      return undefined;
    });
    const response = await sync(client).handleStream([
      record('1', 'INSERT', { new: definition('a') }),
      record('2', 'MODIFY', { old: definition('b'), new: definition('b', { args: [1] }) }),
      record('3', 'REMOVE', { old: definition('c') }),
    ]);
    expect(response.batchItemFailures).toEqual([]);
    expect(calls.map((c) => c.replace(/-[0-9a-f]+$/, ''))).toEqual([
      'CreateSchedule a',
      'UpdateSchedule b',
      'DeleteSchedule c',
      'UpdateSchedule a',
      'CreateSchedule b',
    ]);
  });

  it('reports the first record of each task that failed, and still syncs the others', async () => {
    const { client, calls } = fakeScheduler((_operation, name) =>
      name.startsWith('bad-')
        ? Object.assign(new Error('Rate exceeded'), { name: 'ThrottlingException' })
        : undefined,
    );
    const response = await sync(client).handleStream([
      record('10', 'INSERT', { new: definition('good') }),
      record('11', 'INSERT', { new: definition('bad') }),
      record('12', 'MODIFY', { old: definition('bad'), new: definition('bad', { args: [2] }) }),
    ]);
    expect(response.batchItemFailures).toEqual([{ itemIdentifier: '11' }]);
    expect(calls.filter((c) => c.startsWith('CreateSchedule good'))).toHaveLength(1);
  });

  it('writes a task changed back and forth within a batch in its latest state, whole', async () => {
    const { client, calls } = fakeScheduler(() => undefined);
    await sync(client).handleStream([
      record('1', 'MODIFY', { old: definition('x'), new: definition('x', { args: [1] }) }),
      record('2', 'MODIFY', { old: definition('x', { args: [1] }), new: definition('x') }),
    ]);
    // A retried batch may have applied the first change already: the final state is written.
    expect(calls).toHaveLength(1);
    expect(calls[0]).toMatch(/^UpdateSchedule x-/);
  });

  it('leaves the schedule of a hand-broken row alone, without failing the batch', async () => {
    const { client, calls } = fakeScheduler(() => undefined);
    const broken = { ...definition('y'), crontab: { minute: '61', hour: '9' } };
    const response = await sync(client).handleStream([
      record('1', 'MODIFY', { old: definition('y'), new: broken }),
    ]);
    expect(response.batchItemFailures).toEqual([]);
    expect(calls).toEqual([]);
  });

  it('makes no call for run statistics or a description, even if the mapping filter let them through', async () => {
    const { client, calls } = fakeScheduler(() => undefined);
    const ran = { ...definition('z'), lastRunAt: '2026-11-25T09:00:00Z', totalRunCount: 1, lastWrite: 'run' };
    await sync(client).handleStream([
      record('1', 'MODIFY', { old: definition('z'), new: ran }),
      record('2', 'MODIFY', { old: ran, new: { ...ran, description: 'new words', lastWrite: 'definition' } }),
    ]);
    expect(calls).toEqual([]);
  });
});

describe('Beat configuration', () => {
  const env = {
    CELERITY_PERIODIC_TASKS_TABLE: 'periodic',
    CELERITY_PERIODIC_SCHEDULE_GROUP: 'celerity-periodic',
    CELERITY_SCHEDULER_GROUP: 'celerity-delays',
    CELERITY_SCHEDULER_ROLE_ARN: 'arn:aws:iam::1:role/scheduler',
    CELERITY_TIMEZONE: 'Europe/Madrid',
    CELERITY_QUEUES: JSON.stringify({
      default: { url: 'http://q/default', arn: 'arn:aws:sqs:us-east-1:1:default' },
      heavy: { url: 'http://q/heavy', arn: 'arn:aws:sqs:us-east-1:1:heavy' },
    }),
  };

  it('reads the table, group and timezone from the environment a function is given', () => {
    const config = resolveConfig({}, env);
    expect(config.beat).toEqual({ table: 'periodic', groupName: 'celerity-periodic' });
    expect(config.timezone).toBe('Europe/Madrid');
    expect(resolveConfig({}, {}).timezone).toBe('UTC');
  });

  it('refuses a timezone that is not an IANA zone, naming the setting', () => {
    expect(() => resolveConfig({ timezone: 'Mars/Olympus' }, {})).toThrow(/config\.timezone: is not an IANA/);
  });

  it("routes a periodic task's schedule to its queue, else by the app's routes, else the default", () => {
    const config = resolveConfig({ taskRoutes: { 'apps.studies.*': 'heavy' } }, env);
    const target = beatTarget(config);
    const queueOf = (extra: Record<string, unknown>) =>
      typeof target.queueArn === 'function' ? target.queueArn(definition('q', extra)) : target.queueArn;
    expect(queueOf({})).toBe('arn:aws:sqs:us-east-1:1:default');
    expect(queueOf({ task: 'apps.studies.tasks.process_large_file' })).toBe('arn:aws:sqs:us-east-1:1:heavy');
    expect(queueOf({ queue: 'heavy' })).toBe('arn:aws:sqs:us-east-1:1:heavy');
    expect(() => queueOf({ queue: 'missing' })).toThrow(/queue: no task queue named "missing"/);
    expect(target.groupName).toBe('celerity-periodic');
  });

  it('says which settings are missing when Beat is not configured', () => {
    expect(() => beatTarget(resolveConfig({}, {}))).toThrow(/CELERITY_PERIODIC_TASKS_TABLE/);
  });
});

describe('stored definitions', () => {
  it('read back a one-off task disabled after its clocked time has passed, and plan it DISABLED', async () => {
    const clocked = {
      ...parsePeriodicTask(
        { name: 'once', task: 'a.b', clocked: { clockedTime: '2026-11-25T10:00:00Z' } },
        { now: new Date('2026-11-25T09:00:00Z') },
      ),
      dateChanged: '2026-11-25T09:00:00.000Z',
      lastWrite: 'definition',
    };
    // The worker's disable after the run moves dateChanged past the clocked time.
    const disabled = {
      ...clocked,
      enabled: false,
      totalRunCount: 1,
      dateChanged: '2026-11-25T10:00:01.000Z',
    };
    expect(definitionFromItem(disabled)).toMatchObject({ name: 'once', enabled: false });
    const { client, calls } = fakeScheduler(() => undefined);
    const response = await sync(client).handleStream([
      record('1', 'MODIFY', { old: clocked, new: disabled }),
    ]);
    expect(response.batchItemFailures).toEqual([]);
    expect(calls).toEqual([expect.stringMatching(/^UpdateSchedule once-/)]);
  });
});
