import { GetCommand, PutCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import '../../functions/tasks/index.ts';
import { appointmentItem, NotificationsTable, notificationItem } from '../../functions/tasks/model.ts';
import { LabControlEnv, type LabControlSettings } from '../../functions/tasks/settings.ts';
import { processLargeFile } from '../../functions/tasks/studies.ts';
import { type DemoDataSummary, seedDemoData, settingsOf } from '../../localstack/dev/demo-data.ts';
import { createResultStore, createWorkerRuntime } from '../../shared/app.ts';
import { encodeEnvelope } from '../../shared/envelope/index.ts';
import type { ResultStore } from '../../shared/results/index.ts';
import { resolveTaskOptions } from '../../shared/task/index.ts';
import { executeTask, type RunOutcome } from '../../shared/worker/execute.ts';
import type { WorkerRuntime } from '../../shared/worker/index.ts';
import { useEmulator } from '../support/emulator.ts';
import { invocation, type ProvisionedStack, provisionStack, sqsRecord } from '../support/stack.ts';

const { endpoint } = useEmulator();

let stack: ProvisionedStack;
let settings: LabControlSettings;
let demo: DemoDataSummary;
let runtime: WorkerRuntime;
let store: ResultStore;

interface SesMessage {
  id: string;
  source: string;
  subject: string;
  body: string;
  destinations: { ToAddresses: string[] };
}

async function sentMail(): Promise<SesMessage[]> {
  const data = (await (await fetch(`${endpoint}/moto-api/data.json`)).json()) as {
    ses?: { Message?: SesMessage[] };
  };
  return data.ses?.Message ?? [];
}

/** Runs one call of a task through the worker runtime, as the SQS-triggered Lambda would. */
async function run(task: string, id: string, args: unknown[] = []) {
  const { body } = encodeEnvelope({ v: 1, id, task, args, queue: 'default' });
  const response = await runtime.processBatch([sqsRecord(body)], invocation(120_000));
  const record = await store.get(id);
  return { response, record, result: record?.result ? JSON.parse(record.result) : undefined };
}

const HOUR = 3_600_000;
const at = (offsetMs: number) => new Date(Date.now() + offsetMs).toISOString();

beforeAll(async () => {
  stack = await provisionStack();
  settings = settingsOf(stack.resources);
  // The worker Lambda gets these from the stack; the tasks read them from the process here.
  for (const name of Object.values(LabControlEnv)) {
    const value = Object.values(stack.resources.functions).find((f) => f.environment[name])?.environment[
      name
    ];
    if (value) process.env[name] = value;
  }
  demo = await seedDemoData(stack.clients, stack.resources);
  const wiring = { config: stack.config, clients: stack.clients };
  runtime = createWorkerRuntime({ ...wiring, logger: { debug() {}, info() {}, warn() {}, error() {} } });
  store = createResultStore(wiring);
});

describe('LabControl data in the stack', () => {
  it('provisions the tables and verifies the sender from the template, and seeds demo data once', async () => {
    expect(Object.keys(stack.resources.emailIdentities)).toHaveLength(1);
    expect(Object.values(stack.resources.emailIdentities)[0]?.identity).toBe(settings.sesSender);
    expect(demo.created).toBeGreaterThan(10);
    const again = await seedDemoData(stack.clients, stack.resources);
    expect(again.created).toBe(0);
  });
});

describe('apps.appointments.tasks.send_appointment_reminders', () => {
  const task = 'apps.appointments.tasks.send_appointment_reminders';
  const put = (item: object) =>
    stack.clients.dynamo.send(new PutCommand({ TableName: settings.appointmentsTable, Item: { ...item } }));

  it('emails each due appointment exactly once, even from two runs at once and a third after', async () => {
    const extra = Array.from({ length: 20 }, (_, i) =>
      appointmentItem({ appointmentId: `apt-extra-${i}`, userId: 'u-marie', startsAt: at((i + 1) * HOUR) }),
    );
    // A claim whose run died an hour ago is retaken; one taken a moment ago by a live run is not.
    const stale = {
      ...appointmentItem({ appointmentId: 'apt-stale-claim', userId: 'u-alan', startsAt: at(3 * HOUR) }),
      reminderClaimedBy: 'dead-run',
      reminderClaimedAt: at(-HOUR),
    };
    const live = {
      ...appointmentItem({ appointmentId: 'apt-live-claim', userId: 'u-alan', startsAt: at(3 * HOUR) }),
      reminderClaimedBy: 'live-run',
      reminderClaimedAt: at(0),
    };
    await Promise.all([...extra, stale, live].map(put));
    const due = ['apt-soon-ada', 'apt-soon-grace', 'apt-stale-claim', ...extra.map((a) => a.appointmentId)];

    const started = new Date().toISOString();
    const [a, b] = await Promise.all([run(task, 'reminders-a'), run(task, 'reminders-b')]);
    expect(a.record?.status).toBe('SUCCESS');
    expect(b.record?.status).toBe('SUCCESS');
    const counts = [a.result, b.result].map((r) => Number(/^Sent (\d+) reminders$/.exec(String(r))?.[1]));
    expect(counts.reduce((x, y) => x + y, 0)).toBe(due.length);

    const third = await run(task, 'reminders-c');
    expect(third.result).toBe('Sent 0 reminders');

    const mail = await sentMail();
    const reminders = mail.filter((m) => m.subject.startsWith('Reminder:'));
    const refs = reminders.map((m) => /\(ref\. ([^)]+)\)/.exec(m.body)?.[1]).sort();
    expect(refs).toEqual([...due].sort());
    for (const m of reminders) expect(m.source).toBe(settings.sesSender);
    expect(reminders.find((m) => m.body.includes('apt-soon-ada'))?.destinations.ToAddresses).toEqual([
      'ada@labcontrol.example',
    ]);

    const get = async (appointmentId: string) =>
      (
        await stack.clients.dynamo.send(
          new GetCommand({ TableName: settings.appointmentsTable, Key: { appointmentId } }),
        )
      ).Item;
    for (const id of due) {
      const item = await get(id);
      expect(item?.reminderSentAt, id).toBeDefined();
      expect(item?.pendingReminderDay, id).toBeUndefined();
      expect(item?.reminderClaimedBy, id).toBeUndefined();
    }
    expect(await get('apt-unknown-user')).toMatchObject({ reminderSkipped: 'user u-nobody does not exist' });
    expect((await get('apt-live-claim'))?.reminderSentAt).toBeUndefined();
    expect((await get('apt-later'))?.pendingReminderDay).toBeDefined();
    // Reminded before these runs, and left as it was.
    expect(String((await get('apt-soon-reminded'))?.reminderSentAt) < started).toBe(true);
  });
});

describe('apps.notifications.tasks', () => {
  it('send_email_notification mails a known user, and fails an unknown one at once, without retries', async () => {
    const task = 'apps.notifications.tasks.send_email_notification';
    const ok = await run(task, 'email-ok', ['u-grace', 'Results ready', 'Your study results are in.']);
    expect(ok.record?.status).toBe('SUCCESS');
    const mail = (await sentMail()).filter((m) => m.subject === 'Results ready');
    expect(mail).toHaveLength(1);
    expect(mail[0]?.destinations.ToAddresses).toEqual(['grace@labcontrol.example']);

    const missing = await run(task, 'email-missing', ['u-ghost', 'Hello', 'Anyone there?']);
    expect(missing.response.batchItemFailures).toEqual([]);
    expect(missing.record).toMatchObject({ status: 'FAILURE', errorType: 'Reject', retries: 0 });
    expect(missing.record?.traceback).toContain('user u-ghost does not exist');
  });

  it('send_bulk_notification creates one notification for each of 10,000 users', async () => {
    const userIds = Array.from({ length: 10_000 }, (_, i) => `bulk-user-${i}`);
    const { record, result } = await run('apps.notifications.tasks.send_bulk_notification', 'bulk-10k', [
      userIds,
      'Maintenance',
      'The lab is closed on Friday.',
      'info',
    ]);
    expect(record?.status).toBe('SUCCESS');
    expect(result).toBe('Created 10000 notifications');
    const seen = new Set<string>();
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await stack.clients.dynamo.send(
        new QueryCommand({
          TableName: settings.notificationsTable,
          IndexName: NotificationsTable.broadcastIndex,
          KeyConditionExpression: 'broadcastId = :id',
          ExpressionAttributeValues: { ':id': 'bulk-10k' },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) seen.add(String(item.userId));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    expect(seen.size).toBe(10_000);
    expect(seen).toEqual(new Set(userIds));
    const inbox = await stack.clients.dynamo.send(
      new QueryCommand({
        TableName: settings.notificationsTable,
        IndexName: NotificationsTable.byUserIndex,
        KeyConditionExpression: 'userId = :u',
        ExpressionAttributeValues: { ':u': 'bulk-user-9999' },
      }),
    );
    expect(inbox.Items).toEqual([
      expect.objectContaining({ title: 'Maintenance', type: 'info', read: false, broadcastId: 'bulk-10k' }),
    ]);
  });

  it('cleanup_old_notifications deletes exactly the read ones older than 90 days', async () => {
    const DAY = 24 * HOUR;
    const extra = Array.from({ length: 60 }, (_, i) =>
      notificationItem({
        notificationId: `n-extra-old-read-${i}`,
        userId: 'u-ada',
        title: 't',
        message: 'm',
        type: 'info',
        createdAt: at(-(91 + i) * DAY),
        readAt: at(-90 * DAY),
      }),
    );
    await Promise.all(
      extra.map((Item) =>
        stack.clients.dynamo.send(
          new PutCommand({ TableName: settings.notificationsTable, Item: { ...Item } }),
        ),
      ),
    );
    const first = await run('apps.notifications.tasks.cleanup_old_notifications', 'cleanup-1');
    expect(first.result).toBe(demo.oldReadNotifications + extra.length);
    const second = await run('apps.notifications.tasks.cleanup_old_notifications', 'cleanup-2');
    expect(second.result).toBe(0);

    const exists = async (notificationId: string) =>
      (
        await stack.clients.dynamo.send(
          new GetCommand({ TableName: settings.notificationsTable, Key: { notificationId } }),
        )
      ).Item !== undefined;
    for (const id of ['n-old-read-1', 'n-old-read-2', 'n-old-read-3', 'n-extra-old-read-0']) {
      expect(await exists(id), id).toBe(false);
    }
    for (const id of [
      'n-old-unread',
      'n-recent-read',
      'n-recent-read-2',
      'n-recent-unread',
      'bulk-10k:bulk-user-1',
    ]) {
      expect(await exists(id), id).toBe(true);
    }
  });
});

describe('apps.studies.tasks.process_large_file', () => {
  it('processes every chunk of a study, and a second run changes nothing', async () => {
    const task = 'apps.studies.tasks.process_large_file';
    const first = await run(task, 'study-1', ['study-demo']);
    expect(first.record?.status).toBe('SUCCESS');
    expect(first.result).toMatch(/^Processed study study-demo: 40 chunks, sha256 [0-9a-f]{16}$/);
    const again = await run(task, 'study-2', ['study-demo']);
    expect(again.result).toBe(first.result);
    const missing = await run(task, 'study-3', ['study-nope']);
    expect(missing.record).toMatchObject({ status: 'FAILURE', errorType: 'Reject' });
  });

  it('stops at its soft limit between chunks and carries on where it stopped, to the same checksum', async () => {
    const name = 'apps.studies.tasks.process_large_file';
    const study = { studyId: 'study-long', totalChunks: 60, processedChunks: 0, status: 'pending' };
    const reset = () =>
      stack.clients.dynamo.send(new PutCommand({ TableName: settings.studiesTable, Item: { ...study } }));
    const request = (retries: number) => ({
      id: 'study-long-run',
      task: name,
      retries,
      eta: undefined,
      expires: undefined,
      origin: undefined,
      parentId: undefined,
      rootId: undefined,
      periodicTask: undefined,
      queue: 'heavy',
      deliveryCount: 1,
      isEager: false,
    });
    await reset();
    // The same body under a soft limit short enough that the file takes several runs.
    const hurried = {
      ...processLargeFile,
      name,
      options: resolveTaskOptions(name, { softTimeLimit: 0.1, timeLimit: 30 }),
    };
    const outcomes: string[] = [];
    let outcome: RunOutcome | undefined;
    for (let retries = 0; outcome?.kind !== 'success' && retries < 200; retries++) {
      outcome = await executeTask(hurried, { request: request(retries), args: ['study-long'], kwargs: {} });
      outcomes.push(outcome.kind);
      if (outcome.kind === 'retry') {
        expect(outcome.countdown).toBe(0);
        expect((outcome.error as Error).name).toBe('StudyContinuesError');
      }
    }
    expect(outcomes.length).toBeGreaterThan(1);
    expect(outcomes.at(-1)).toBe('success');
    const resumed = (outcome as { result: unknown }).result;

    await reset();
    const straight = await executeTask(processLargeFile, {
      request: request(0),
      args: ['study-long'],
      kwargs: {},
    });
    expect(straight).toMatchObject({ kind: 'success', result: resumed });
  });
});
