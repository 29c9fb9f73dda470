import { createHash } from 'node:crypto';

/**
 * LabControl's records as they sit in DynamoDB, and the key and index names that the tasks, the
 * CDK construct (infra/constructs/labcontrol-data.ts) and the demo data share, so the three never
 * drift. Times are ISO-8601 strings from `Date.prototype.toISOString()` (UTC, milliseconds, `Z`):
 * the indexes compare them as strings, which is only right when every writer uses that one form.
 */

export const UsersTable = { partitionKey: 'userId' } as const;

/**
 * Appointments. `dueReminders` is a sparse index: only appointments still waiting for a reminder
 * carry `pendingReminderDay` (the UTC day of `startsAt`), and sending the reminder removes it. "Due
 * in the next 24 hours, not yet reminded" is then one Query per day the window touches (two at
 * most), `startsAt BETWEEN now AND now + 24 h`, and reminded appointments cost the index nothing.
 * A day bucket rather than one constant key spreads the index's writes over partitions.
 */
export const AppointmentsTable = {
  partitionKey: 'appointmentId',
  dueRemindersIndex: 'dueReminders',
  dueRemindersPartitionKey: 'pendingReminderDay',
  dueRemindersSortKey: 'startsAt',
} as const;

/**
 * Notifications, one item each. Three indexes, two of them sparse:
 * - `byUser` (userId, createdAt): a user's inbox, newest first.
 * - `readByCreatedAt` (readShard, createdAt): only read notifications carry `readShard`, so
 *   "read and created before the cutoff" is one Query per shard; keys only, as cleanup only deletes.
 * - `byBroadcast` (broadcastId, userId): the notifications one bulk send made, keys only, so a
 *   broadcast can be counted or withdrawn without a scan.
 */
export const NotificationsTable = {
  partitionKey: 'notificationId',
  byUserIndex: 'byUser',
  readIndex: 'readByCreatedAt',
  readIndexPartitionKey: 'readShard',
  broadcastIndex: 'byBroadcast',
  broadcastIndexPartitionKey: 'broadcastId',
} as const;

/** Read notifications spread over this many index partitions; cleanup queries each one. */
export const READ_SHARDS = 4;

export const StudiesTable = { partitionKey: 'studyId' } as const;

export interface User {
  userId: string;
  email: string;
  name: string;
}

export interface Appointment {
  appointmentId: string;
  userId: string;
  startsAt: string;
  /** Present while a reminder is owed: the sparse `dueReminders` index key. */
  pendingReminderDay?: string;
  reminderSentAt?: string;
  /** The run that is sending the reminder now, and since when (a claim older than the lease may be retaken). */
  reminderClaimedBy?: string;
  reminderClaimedAt?: string;
  /** Why no reminder can ever be sent (an unknown user); the appointment leaves the index. */
  reminderSkipped?: string;
}

export interface Notification {
  notificationId: string;
  userId: string;
  title: string;
  message: string;
  type: string;
  read: boolean;
  createdAt: string;
  readAt?: string;
  /** Present once read: the sparse `readByCreatedAt` index key. */
  readShard?: string;
  /** Set on notifications a bulk send made: its task id. */
  broadcastId?: string;
}

export interface Study {
  studyId: string;
  /** The file, in chunks processed one at a time, so a run can stop between any two. */
  totalChunks: number;
  processedChunks: number;
  status: 'pending' | 'processing' | 'done';
  /** A running digest over every processed chunk: the "result" of the file. */
  checksum?: string;
  updatedAt?: string;
  completedAt?: string;
}

/** The UTC day of an ISO time, the `dueReminders` partition. */
export function dayOf(iso: string): string {
  return iso.slice(0, 10);
}

/** An appointment as the app should write it: due for a reminder unless one was already sent. */
export function appointmentItem(input: {
  appointmentId: string;
  userId: string;
  startsAt: Date | string;
  reminderSentAt?: Date | string;
}): Appointment {
  const startsAt = new Date(input.startsAt).toISOString();
  const item: Appointment = { appointmentId: input.appointmentId, userId: input.userId, startsAt };
  if (input.reminderSentAt !== undefined) item.reminderSentAt = new Date(input.reminderSentAt).toISOString();
  else item.pendingReminderDay = dayOf(startsAt);
  return item;
}

/** The read-index shard of a notification: stable, so marking read twice lands in one place. */
export function readShardOf(notificationId: string): string {
  const n = createHash('sha256').update(notificationId).digest().readUInt32BE(0) % READ_SHARDS;
  return `read#${n}`;
}

/** A notification as the app should write it; a read one carries its read-index shard. */
export function notificationItem(input: {
  notificationId: string;
  userId: string;
  title: string;
  message: string;
  type: string;
  createdAt: Date | string;
  readAt?: Date | string;
  broadcastId?: string;
}): Notification {
  const item: Notification = {
    notificationId: input.notificationId,
    userId: input.userId,
    title: input.title,
    message: input.message,
    type: input.type,
    read: input.readAt !== undefined,
    createdAt: new Date(input.createdAt).toISOString(),
  };
  if (input.readAt !== undefined) {
    item.readAt = new Date(input.readAt).toISOString();
    item.readShard = readShardOf(input.notificationId);
  }
  if (input.broadcastId) item.broadcastId = input.broadcastId;
  return item;
}
