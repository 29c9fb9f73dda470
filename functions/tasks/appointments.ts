import { randomUUID } from 'node:crypto';
import { type DynamoDBDocumentClient, QueryCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { getAwsClients, isAwsError } from '../../shared/aws/index.ts';
import { defineTask, INVOCATION_OVERHEAD_SECONDS } from '../../shared/task/index.ts';
import { getUser, SES_THROTTLING_ERRORS, sendEmail } from './email.ts';
import { ReminderDeliveryIncompleteError } from './errors.ts';
import { type Appointment, AppointmentsTable, dayOf, type User } from './model.ts';
import { labControlSettings } from './settings.ts';

/** Celery's "appointments in the next 24 hours". */
export const REMINDER_WINDOW_MS = 24 * 3_600_000;

const TIME_LIMIT_SECONDS = 300;

/**
 * How long a claim on an appointment holds. A claim is only taken just before its email is sent,
 * but the run that took it may stall; once the run's Lambda is certainly gone (its time limit and
 * the runtime's overhead), another run may take the appointment over. Were it shorter, a slow but
 * live run could lose its claim and the appointment be reminded twice.
 */
export const REMINDER_CLAIM_LEASE_MS = (TIME_LIMIT_SECONDS + INVOCATION_OVERHEAD_SECONDS + 30) * 1000;

/** Emails SES is asked to send at once: well under a production account's sending rate. */
const SEND_CONCURRENCY = 4;

/**
 * `send_appointment_reminders()`: every appointment starting in the next 24 hours that has had no
 * reminder gets one email, sent once however many runs overlap. The due appointments come from
 * the sparse `dueReminders` index; each is then claimed with a conditional write on the table
 * (strongly consistent, unlike the index) before its email goes, and marked reminded after,
 * which also takes it out of the index. A crash after the claim leaves a stale claim that a later
 * run retakes once the lease has passed; a crash between sending and marking is the one window in
 * which a reminder could go twice, as no write can be atomic with an email.
 */
export const sendAppointmentReminders = defineTask(
  'apps.appointments.tasks.send_appointment_reminders',
  async (ctx) => {
    const settings = labControlSettings();
    const { dynamo, ses } = getAwsClients();
    const now = Date.now();
    const window = {
      from: new Date(now).toISOString(),
      to: new Date(now + REMINDER_WINDOW_MS).toISOString(),
    };
    const due = await dueAppointmentIds(dynamo, settings.appointmentsTable, window);
    const claimant = `${ctx.request.id}/${randomUUID()}`;
    const users = new Map<string, Promise<User | undefined>>();
    let sent = 0;
    const failed: string[] = [];
    let firstError: unknown;

    const remind = async (appointmentId: string) => {
      const claim = new Claim(dynamo, settings.appointmentsTable, appointmentId, claimant);
      const appointment = await claim.take(window, now);
      if (!appointment) return;
      if (!users.has(appointment.userId)) {
        users.set(appointment.userId, getUser(dynamo, settings.usersTable, appointment.userId));
      }
      const user = await users.get(appointment.userId);
      if (!user?.email) {
        await claim.skip(`user ${appointment.userId} ${user ? 'has no email address' : 'does not exist'}`);
        return;
      }
      try {
        await sendEmail(ses, reminderEmail(settings.sesSender, user, appointment));
      } catch (error) {
        await claim.release();
        failed.push(appointmentId);
        firstError ??= error;
        return;
      }
      await claim.markSent();
      sent++;
    };

    let next = 0;
    const lane = async () => {
      while (next < due.length && !ctx.signal.aborted) await remind(due[next++] as string);
    };
    await Promise.all(Array.from({ length: SEND_CONCURRENCY }, lane));
    // Stopped at the soft limit: what is left is still in the index for the retry.
    ctx.signal.throwIfAborted();
    if (failed.length > 0) throw new ReminderDeliveryIncompleteError(sent, failed, firstError);
    return `Sent ${sent} reminders`;
  },
  {
    timeLimit: TIME_LIMIT_SECONDS,
    softTimeLimit: TIME_LIMIT_SECONDS - 30,
    autoretryFor: ['SoftTimeLimitExceeded', 'ReminderDeliveryIncomplete', ...SES_THROTTLING_ERRORS],
    retryBackoff: 30,
    retryBackoffMax: 900,
    maxRetries: 3,
  },
);

/** Ids of the appointments in the window still owed a reminder: one Query per UTC day it touches. */
async function dueAppointmentIds(
  dynamo: DynamoDBDocumentClient,
  table: string,
  window: { from: string; to: string },
): Promise<string[]> {
  const ids: string[] = [];
  for (const day of new Set([dayOf(window.from), dayOf(window.to)])) {
    let startKey: Record<string, unknown> | undefined;
    do {
      const page = await dynamo.send(
        new QueryCommand({
          TableName: table,
          IndexName: AppointmentsTable.dueRemindersIndex,
          KeyConditionExpression: '#day = :day AND #startsAt BETWEEN :from AND :to',
          ExpressionAttributeNames: {
            '#day': AppointmentsTable.dueRemindersPartitionKey,
            '#startsAt': AppointmentsTable.dueRemindersSortKey,
          },
          ExpressionAttributeValues: { ':day': day, ':from': window.from, ':to': window.to },
          ExclusiveStartKey: startKey,
        }),
      );
      for (const item of page.Items ?? []) ids.push(String(item.appointmentId));
      startKey = page.LastEvaluatedKey;
    } while (startKey);
  }
  return ids;
}

function reminderEmail(from: string, user: User, appointment: Appointment) {
  const when = `${appointment.startsAt.slice(0, 10)} at ${appointment.startsAt.slice(11, 16)} UTC`;
  return {
    from,
    to: user.email,
    subject: `Reminder: your LabControl appointment on ${when}`,
    text: `Hello ${user.name || user.email},\n\nThis is a reminder of your appointment on ${when} (ref. ${appointment.appointmentId}).\n\nLabControl`,
  };
}

/** One run's hold on one appointment, from claim to reminded (or skipped, or released). */
class Claim {
  constructor(
    private readonly dynamo: DynamoDBDocumentClient,
    private readonly table: string,
    private readonly appointmentId: string,
    private readonly claimant: string,
  ) {}

  /**
   * Claims the appointment if it is still owed a reminder, still in the window (it may have moved
   * since the index was read) and not held by a live claim; returns it as it now stands.
   */
  async take(window: { from: string; to: string }, now: number): Promise<Appointment | undefined> {
    try {
      const { Attributes } = await this.dynamo.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { appointmentId: this.appointmentId },
          UpdateExpression: 'SET reminderClaimedBy = :me, reminderClaimedAt = :now',
          ConditionExpression:
            'attribute_exists(pendingReminderDay) AND attribute_not_exists(reminderSentAt) AND startsAt BETWEEN :from AND :to AND (attribute_not_exists(reminderClaimedAt) OR reminderClaimedAt < :stale)',
          ExpressionAttributeValues: {
            ':me': this.claimant,
            ':now': new Date(now).toISOString(),
            ':stale': new Date(now - REMINDER_CLAIM_LEASE_MS).toISOString(),
            ':from': window.from,
            ':to': window.to,
          },
          ReturnValues: 'ALL_NEW',
        }),
      );
      return Attributes as Appointment;
    } catch (error) {
      if (isAwsError(error, 'ConditionalCheckFailedException')) return undefined;
      throw error;
    }
  }

  /** Reminded: out of the index for good. */
  markSent(): Promise<void> {
    return this.finish('SET reminderSentAt = :at', { ':at': new Date().toISOString() });
  }

  /** No reminder can ever be sent: out of the index, with the reason. */
  skip(reason: string): Promise<void> {
    return this.finish('SET reminderSkipped = :why', { ':why': reason });
  }

  /** Sending failed: the next run may claim it at once. */
  async release(): Promise<void> {
    await this.update('REMOVE reminderClaimedBy, reminderClaimedAt', {});
  }

  private finish(set: string, values: Record<string, unknown>): Promise<void> {
    return this.update(`${set} REMOVE pendingReminderDay, reminderClaimedBy, reminderClaimedAt`, values);
  }

  /** Writes only while this run still holds the claim; a claim retaken after its lease wins. */
  private async update(expression: string, values: Record<string, unknown>): Promise<void> {
    try {
      await this.dynamo.send(
        new UpdateCommand({
          TableName: this.table,
          Key: { appointmentId: this.appointmentId },
          UpdateExpression: expression,
          ConditionExpression: 'reminderClaimedBy = :me',
          ExpressionAttributeValues: { ...values, ':me': this.claimant },
        }),
      );
    } catch (error) {
      if (!isAwsError(error, 'ConditionalCheckFailedException')) throw error;
    }
  }
}
