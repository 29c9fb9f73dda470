import { GetCommand, QueryCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { NotificationsTable } from '../../functions/tasks/model.ts';
import { type DemoDataSummary, seedDemoData } from '../../localstack/dev/demo-data.ts';
import { type LocalCloud, startLocalCloud } from '../../localstack/local-cloud.ts';
import type { TaskResultRecord } from '../../shared/results/index.ts';
import { useEmulator } from '../support/emulator.ts';

const { endpoint } = useEmulator();

let cloud: LocalCloud;
let demo: DemoDataSummary;

async function sentMail(): Promise<{ destinations: { ToAddresses: string[] }; subject: string }[]> {
  const data = (await (await fetch(`${endpoint}/moto-api/data.json`)).json()) as {
    ses?: { Message?: { destinations: { ToAddresses: string[] }; subject: string }[] };
  };
  return data.ses?.Message ?? [];
}

/** Sends through the producer (routing as configured) and waits for the worker to finish it. */
async function call(task: string, args: unknown[] = []): Promise<TaskResultRecord> {
  const { taskId } = await cloud.producer.send({ task, args });
  const end = Date.now() + 120_000;
  for (;;) {
    const record = await cloud.store.get(taskId);
    if (record && ['SUCCESS', 'FAILURE', 'REVOKED'].includes(record.status)) return record;
    if (Date.now() > end) throw new Error(`${task} did not finish: ${JSON.stringify(record)}`);
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

beforeAll(async () => {
  cloud = await startLocalCloud({ endpoint, logLevel: 'silent', streams: false, clock: false });
  demo = await seedDemoData(cloud.clients, cloud.resources);
}, 120_000);

afterAll(async () => {
  await cloud?.stop();
});

describe("LabControl's tasks in the local cloud: producer → SQS → poller → worker → DynamoDB and SES", () => {
  it('sends each due reminder once, even when the task runs twice at once', async () => {
    const before = (await sentMail()).length;
    const runs = await Promise.all([
      call('apps.appointments.tasks.send_appointment_reminders'),
      call('apps.appointments.tasks.send_appointment_reminders'),
    ]);
    for (const run of runs) expect(run.status).toBe('SUCCESS');
    const sent = runs.map((run) =>
      Number(/Sent (\d+) reminders/.exec(JSON.parse(run.result as string))?.[1]),
    );
    expect((sent[0] ?? 0) + (sent[1] ?? 0)).toBe(demo.dueReminders);
    const mail = (await sentMail()).slice(before);
    expect(mail).toHaveLength(demo.dueReminders);
    const recipients = mail.map((m) => m.destinations.ToAddresses[0]);
    expect(new Set(recipients).size).toBe(demo.dueReminders);

    const third = await call('apps.appointments.tasks.send_appointment_reminders');
    expect(JSON.parse(third.result as string)).toBe('Sent 0 reminders');
    expect((await sentMail()).length - before).toBe(demo.dueReminders);
  });

  it('creates a notification for each of 10,000 users in one call, on the notifications queue', async () => {
    const userIds = Array.from({ length: 10_000 }, (_, i) => `e2e-user-${i}`);
    const run = await call('apps.notifications.tasks.send_bulk_notification', [
      userIds,
      'Maintenance',
      'The lab is closed on Friday.',
      'info',
    ]);
    expect(run.status).toBe('SUCCESS');
    expect(run.queue).toBe('notifications');
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await cloud.clients.dynamo.send(
        new QueryCommand({
          TableName: demo.settings.notificationsTable,
          IndexName: NotificationsTable.broadcastIndex,
          KeyConditionExpression: 'broadcastId = :id',
          ExpressionAttributeValues: { ':id': run.taskId },
          Select: 'COUNT',
          ExclusiveStartKey: startKey,
        }),
      );
      count += page.Count ?? 0;
      startKey = page.LastEvaluatedKey;
    } while (startKey);
    expect(count).toBe(10_000);
  });

  it('cleans up exactly the read notifications older than 90 days', async () => {
    const run = await call('apps.notifications.tasks.cleanup_old_notifications');
    expect(run.status).toBe('SUCCESS');
    expect(JSON.parse(run.result as string)).toBe(demo.oldReadNotifications);
    const exists = async (notificationId: string) =>
      (
        await cloud.clients.dynamo.send(
          new GetCommand({ TableName: demo.settings.notificationsTable, Key: { notificationId } }),
        )
      ).Item !== undefined;
    for (const id of ['n-old-read-1', 'n-old-read-2', 'n-old-read-3'])
      expect(await exists(id), id).toBe(false);
    for (const id of ['n-old-unread', 'n-recent-read', 'n-recent-unread'])
      expect(await exists(id), id).toBe(true);
    const again = await call('apps.notifications.tasks.cleanup_old_notifications');
    expect(JSON.parse(again.result as string)).toBe(0);
  });
});
