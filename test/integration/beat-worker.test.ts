import { GetScheduleCommand } from '@aws-sdk/client-scheduler';
import { ReceiveMessageCommand } from '@aws-sdk/client-sqs';
import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  createBeatSync,
  createPeriodicTaskStore,
  createResultStore,
  createWorkerRuntime,
} from '../../shared/app.ts';
import {
  envelopeInput,
  nextSolarEvent,
  type PeriodicTaskInput,
  renderInput,
  scheduleName,
  translate,
} from '../../shared/beat/index.ts';
import type { PeriodicTaskStore } from '../../shared/beat/store.ts';
import type { BeatSync } from '../../shared/beat/sync.ts';
import type { CelerityConfig } from '../../shared/config/index.ts';
import type { ResultStore } from '../../shared/results/index.ts';
import { defineTask } from '../../shared/task/define.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import type { WorkerRuntime } from '../../shared/worker/index.ts';
import { useEmulator } from '../support/emulator.ts';
import { invocation, type ProvisionedStack, provisionStack, sqsRecord } from '../support/stack.ts';
import { StreamTail } from '../support/stream-tail.ts';

useEmulator();

const TASK = 'tests.beat.tick';
const runs: string[] = [];
const registry = new TaskRegistry();
defineTask(
  TASK,
  async (ctx) => {
    runs.push(ctx.request.id);
    return ctx.request.periodicTask;
  },
  {},
  registry,
);

let stack: ProvisionedStack;
let config: CelerityConfig;
let periodic: PeriodicTaskStore;
let results: ResultStore;
let runtime: WorkerRuntime;
let sync: BeatSync;
let tail: StreamTail;

/** The message the Scheduler would put on the queue for one run of the periodic task. */
async function delivery(name: string, executionId: string, scheduledTime: Date): Promise<string> {
  const definition = await periodic.get(name);
  if (!definition) throw new Error(`no periodic task ${name}`);
  const input = envelopeInput(
    definition,
    translate(definition, { now: new Date(scheduledTime.getTime() - 1) }),
  );
  return renderInput(input, { executionId, scheduledTime });
}

async function row(name: string): Promise<Record<string, unknown> | undefined> {
  const { Item } = await stack.clients.dynamo.send(
    new GetCommand({ TableName: config.beat?.table, Key: { name }, ConsistentRead: true }),
  );
  return Item;
}

async function add(input: Omit<PeriodicTaskInput, 'task'>): Promise<void> {
  await periodic.add({ ...input, task: TASK } as PeriodicTaskInput);
}

const quiet = { debug() {}, info() {}, warn() {}, error() {} };

beforeAll(async () => {
  stack = await provisionStack();
  config = stack.config;
  const wiring = { config, clients: stack.clients, registry };
  periodic = createPeriodicTaskStore(wiring);
  results = createResultStore(wiring);
  runtime = createWorkerRuntime({ ...wiring, logger: quiet });
  sync = createBeatSync({ ...wiring, logger: quiet });
  const table = Object.values(stack.resources.tables).find((t) => t.name === config.beat?.table);
  tail = new StreamTail(table?.streamArn as string);
});

describe('the worker runs periodic tasks as Celery Beat would', () => {
  it('counts each run once in lastRunAt and totalRunCount, marked as a run-statistics write', async () => {
    await add({ name: 'every minute', interval: { every: 1, period: 'minutes' } });
    const at = new Date(Math.floor(Date.now() / 60_000) * 60_000);
    const message = await delivery('every minute', 'exec-a', at);
    for (let delivery = 1; delivery <= 3; delivery++) {
      const response = await runtime.processBatch([sqsRecord(message, delivery)], invocation());
      expect(response.batchItemFailures).toEqual([]);
    }
    expect((await results.get('exec-a'))?.status).toBe('SUCCESS');
    expect(runs.filter((id) => id === 'exec-a')).toHaveLength(1);
    const stored = await row('every minute');
    expect(stored).toMatchObject({ totalRunCount: 1, lastRunAt: at.toISOString().replace('.000Z', 'Z') });
    expect(stored?.lastWrite).toBe('run');
  });

  it('drops ticks on days the crontab excludes (both day fields restricted), recording nothing', async () => {
    // Friday the 13th: EventBridge fires on every 13th; the guard keeps Fridays only.
    await add({
      name: 'friday 13th',
      crontab: { minute: '0', hour: '12', dayOfMonth: '13', dayOfWeek: 'fri' },
    });
    const thursday = await delivery('friday 13th', 'exec-thu', new Date('2026-08-13T12:00:00Z'));
    const friday = await delivery('friday 13th', 'exec-fri', new Date('2026-11-13T12:00:00Z'));
    await runtime.processBatch([sqsRecord(thursday), sqsRecord(friday)], invocation());
    expect(await results.get('exec-thu')).toBeUndefined();
    expect((await results.get('exec-fri'))?.status).toBe('SUCCESS');
    expect((await row('friday 13th'))?.totalRunCount).toBe(1);
  });

  it('expands a 20-second interval into three runs 20 s apart, with ids from the execution id', async () => {
    await add({ name: 'every 20 s', interval: { every: 20, period: 'seconds' }, queue: 'heavy' });
    // A trigger a minute late: every run is due, so all three can be read back at once.
    const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000);
    await runtime.processBatch([sqsRecord(await delivery('every 20 s', 'exec-x', at))], invocation());
    expect((await results.get('exec-x-0'))?.status).toBe('SUCCESS');
    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: config.queues.heavy?.url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    const sent = Messages.map((m) => JSON.parse(m.Body as string)).sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(sent.map((e) => [e.id, e.beat.scheduledAt, e.beat.expansion])).toEqual([
      ['exec-x-1', new Date(at.getTime() + 20_000).toISOString(), undefined],
      ['exec-x-2', new Date(at.getTime() + 40_000).toISOString(), undefined],
    ]);
    await runtime.processBatch(
      Messages.map((m) => sqsRecord(m.Body as string)),
      invocation(),
    );
    expect(runs.filter((id) => id.startsWith('exec-x-')).sort()).toEqual([
      'exec-x-0',
      'exec-x-1',
      'exec-x-2',
    ]);
    expect((await row('every 20 s'))?.totalRunCount).toBe(3);
  });

  it("drops a sub-minute interval's queued runs once its periodic task is disabled", async () => {
    await add({ name: 'every 15 s', interval: { every: 15, period: 'seconds' }, queue: 'notifications' });
    const at = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 60_000);
    await runtime.processBatch([sqsRecord(await delivery('every 15 s', 'exec-d', at))], invocation());
    expect((await results.get('exec-d-0'))?.status).toBe('SUCCESS');
    const { Messages = [] } = await stack.clients.sqs.send(
      new ReceiveMessageCommand({
        QueueUrl: config.queues.notifications?.url,
        MaxNumberOfMessages: 10,
        WaitTimeSeconds: 1,
      }),
    );
    expect(Messages).toHaveLength(3);
    await periodic.setEnabled('every 15 s', false);
    const response = await runtime.processBatch(
      Messages.map((m) => sqsRecord(m.Body as string)),
      invocation(),
    );
    expect(response.batchItemFailures).toEqual([]);
    expect(runs.filter((id) => id.startsWith('exec-d-'))).toEqual(['exec-d-0']);
    for (const id of ['exec-d-1', 'exec-d-2', 'exec-d-3']) expect(await results.get(id)).toBeUndefined();
  });

  it('expires a run expireSeconds after its scheduled time', async () => {
    await add({ name: 'short-lived', crontab: { minute: '*' }, expireSeconds: 30 });
    const late = new Date(Math.floor(Date.now() / 60_000) * 60_000 - 120_000);
    await runtime.processBatch([sqsRecord(await delivery('short-lived', 'exec-late', late))], invocation());
    const result = await results.get('exec-late');
    expect(result?.status).toBe('REVOKED');
    expect(result?.errorType).toBe('TaskExpired');
    expect(runs).not.toContain('exec-late');
  });

  it('disables a one-off task after its run, and the stream then disables its schedule', async () => {
    const when = new Date(Math.ceil(Date.now() / 1000) * 1000 + 3_600_000);
    await add({ name: 'once', clocked: { clockedTime: when.toISOString() } });
    await sync.handleStream(await tail.next());
    expect((await getSchedule('once'))?.State).toBe('ENABLED');

    await runtime.processBatch([sqsRecord(await delivery('once', 'exec-once', when))], invocation());
    expect((await results.get('exec-once'))?.status).toBe('SUCCESS');
    expect(await row('once')).toMatchObject({ enabled: false, totalRunCount: 1 });
    const records = await tail.next();
    // The disabling is a definition write (it reaches the sync); the run count is not.
    expect(records.map((r) => r.dynamodb?.NewImage?.lastWrite?.S).sort()).toEqual(['definition', 'run']);
    const response = await sync.handleStream(records);
    expect(response.batchItemFailures).toEqual([]);
    expect((await getSchedule('once'))?.State).toBe('DISABLED');
  });

  it('re-arms a solar schedule for the following event after a run', async () => {
    const solar = { event: 'sunrise', latitude: 51.5, longitude: -0.13 } as const;
    await add({ name: 'london sunrise', solar });
    await sync.handleStream(await tail.next());
    const first = nextSolarEvent(solar, new Date()) as Date;
    const expression = (t: Date) =>
      `at(${new Date(Math.ceil(t.getTime() / 1000) * 1000).toISOString().slice(0, 19)})`;
    expect((await getSchedule('london sunrise'))?.ScheduleExpression).toBe(expression(first));

    const scheduled = new Date(Math.ceil(first.getTime() / 1000) * 1000);
    await runtime.processBatch(
      [sqsRecord(await delivery('london sunrise', 'exec-sun', scheduled))],
      invocation(),
    );
    const next = nextSolarEvent(solar, new Date(Math.max(scheduled.getTime() + 60_000, Date.now()))) as Date;
    expect(next.getTime() - first.getTime()).toBeGreaterThan(20 * 3_600_000);
    expect((await getSchedule('london sunrise'))?.ScheduleExpression).toBe(expression(next));
  });
});

async function getSchedule(name: string) {
  return stack.clients.scheduler.send(
    new GetScheduleCommand({ Name: scheduleName(name), GroupName: config.beat?.groupName }),
  );
}
