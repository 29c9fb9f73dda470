import { VerifyEmailIdentityCommand } from '@aws-sdk/client-ses';
import { PutCommand } from '@aws-sdk/lib-dynamodb';
import { appointmentItem, notificationItem, type Study, type User } from '../../functions/tasks/model.ts';
import { type LabControlSettings, labControlSettings } from '../../functions/tasks/settings.ts';
import { type AwsClients, isAwsError } from '../../shared/aws/index.ts';
import type { LocalResources } from '../provision/provision.ts';

export interface DemoDataOptions {
  /** The moment appointment and notification times are set around. @defaultValue now */
  now?: Date;
}

/** What was put in place, and what the tasks should make of it. */
export interface DemoDataSummary {
  settings: LabControlSettings;
  /** Items written this time; 0 on a second run against the same emulator. */
  created: number;
  /** `send_appointment_reminders` should send this many on its first run. */
  dueReminders: number;
  /** `cleanup_old_notifications` should delete this many on its first run. */
  oldReadNotifications: number;
  userIds: string[];
  studyIds: string[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/**
 * Seeds LabControl's tables in the emulator with a few users, appointments (due within 24 hours,
 * later, already reminded, of a user that does not exist), notifications (read and older than 90
 * days, old but unread, recent) and a study, and verifies the SES sender so reminders can go out.
 * Idempotent: an item that exists is left as it is, so a second run neither duplicates anything
 * nor undoes what tasks have done since (a sent reminder stays sent).
 *
 * `resources` is what `provision()` returned (the names are read from the worker's environment,
 * as the tasks read them) or the settings themselves.
 */
export async function seedDemoData(
  clients: AwsClients,
  resources: LocalResources | LabControlSettings,
  options: DemoDataOptions = {},
): Promise<DemoDataSummary> {
  const settings = 'functions' in resources ? settingsOf(resources) : resources;
  const now = (options.now ?? new Date()).getTime();
  const at = (offsetMs: number) => new Date(now + offsetMs).toISOString();

  await clients.ses.send(new VerifyEmailIdentityCommand({ EmailAddress: settings.sesSender }));

  const users: User[] = [
    { userId: 'u-ada', email: 'ada@labcontrol.example', name: 'Ada Lovelace' },
    { userId: 'u-grace', email: 'grace@labcontrol.example', name: 'Grace Hopper' },
    { userId: 'u-alan', email: 'alan@labcontrol.example', name: 'Alan Turing' },
    { userId: 'u-marie', email: 'marie@labcontrol.example', name: 'Marie Curie' },
  ];
  const appointments = [
    appointmentItem({ appointmentId: 'apt-soon-ada', userId: 'u-ada', startsAt: at(2 * HOUR) }),
    appointmentItem({ appointmentId: 'apt-soon-grace', userId: 'u-grace', startsAt: at(20 * HOUR) }),
    appointmentItem({
      appointmentId: 'apt-soon-reminded',
      userId: 'u-alan',
      startsAt: at(5 * HOUR),
      reminderSentAt: at(-HOUR),
    }),
    appointmentItem({ appointmentId: 'apt-unknown-user', userId: 'u-nobody', startsAt: at(6 * HOUR) }),
    appointmentItem({ appointmentId: 'apt-later', userId: 'u-marie', startsAt: at(3 * DAY) }),
    appointmentItem({ appointmentId: 'apt-past', userId: 'u-ada', startsAt: at(-3 * HOUR) }),
  ];
  const note = (id: string, userId: string, createdDaysAgo: number, readDaysAgo?: number) =>
    notificationItem({
      notificationId: id,
      userId,
      title: `Demo notification ${id}`,
      message: `Created ${createdDaysAgo} days ago${readDaysAgo === undefined ? ', unread' : ''}.`,
      type: 'info',
      createdAt: at(-createdDaysAgo * DAY),
      ...(readDaysAgo === undefined ? {} : { readAt: at(-readDaysAgo * DAY) }),
    });
  const notifications = [
    note('n-old-read-1', 'u-ada', 120, 118),
    note('n-old-read-2', 'u-grace', 200, 150),
    note('n-old-read-3', 'u-alan', 95, 94),
    note('n-old-unread', 'u-marie', 150),
    note('n-recent-read', 'u-ada', 10, 9),
    note('n-recent-read-2', 'u-grace', 89, 1),
    note('n-recent-unread', 'u-alan', 1),
  ];
  const studies: Study[] = [
    { studyId: 'study-demo', totalChunks: 40, processedChunks: 0, status: 'pending' },
  ];

  const puts = [
    ...users.map((item) => putIfAbsent(clients, settings.usersTable, 'userId', item)),
    ...appointments.map((item) => putIfAbsent(clients, settings.appointmentsTable, 'appointmentId', item)),
    ...notifications.map((item) => putIfAbsent(clients, settings.notificationsTable, 'notificationId', item)),
    ...studies.map((item) => putIfAbsent(clients, settings.studiesTable, 'studyId', item)),
  ];
  const created = (await Promise.all(puts)).filter(Boolean).length;
  return {
    settings,
    created,
    dueReminders: 2,
    oldReadNotifications: 3,
    userIds: users.map((u) => u.userId),
    studyIds: studies.map((s) => s.studyId),
  };
}

/** The names LabControl's tasks will read: the worker function's environment in the template. */
export function settingsOf(resources: LocalResources): LabControlSettings {
  const worker = Object.values(resources.functions).find((f) => f.entry === 'functions/worker.ts');
  if (!worker) throw new Error('the template has no functions/worker.ts function');
  return labControlSettings(worker.environment);
}

async function putIfAbsent(clients: AwsClients, table: string, key: string, item: object): Promise<boolean> {
  try {
    await clients.dynamo.send(
      new PutCommand({
        TableName: table,
        Item: item as Record<string, unknown>,
        ConditionExpression: 'attribute_not_exists(#key)',
        ExpressionAttributeNames: { '#key': key },
      }),
    );
    return true;
  } catch (error) {
    if (isAwsError(error, 'ConditionalCheckFailedException')) return false;
    throw error;
  }
}
