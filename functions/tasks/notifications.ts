import { QueryCommand } from '@aws-sdk/lib-dynamodb';
import { getAwsClients } from '../../shared/aws/index.ts';
import * as z from '../../shared/schema.ts';
import { defineTask, Reject } from '../../shared/task/index.ts';
import { batchWrite, type WriteRequest } from './batch-write.ts';
import { getUser, SES_THROTTLING_ERRORS, sendEmail } from './email.ts';
import { NotificationsTable, notificationItem, READ_SHARDS } from './model.ts';
import { labControlSettings } from './settings.ts';

/** Celery's `cleanup_old_notifications`: read notifications older than this are deleted. */
export const NOTIFICATION_RETENTION_DAYS = 90;

/** One bulk call's ceiling: 10,000 ids keep the message well under SQS's 256 KB. */
export const MAX_BULK_RECIPIENTS = 10_000;

const nonEmpty = () => z.string().check(z.minLength(1));

/**
 * `send_email_notification(user_id, subject, message)`: one email through SES. An unknown user
 * can never succeed, so it is rejected (FAILURE, no retries) naming the id; SES throttling is
 * retried with exponential backoff and jitter, up to five times.
 */
export const sendEmailNotification = defineTask(
  'apps.notifications.tasks.send_email_notification',
  async (_ctx, userId: string, subject: string, message: string) => {
    const settings = labControlSettings();
    const { dynamo, ses } = getAwsClients();
    const user = await getUser(dynamo, settings.usersTable, userId);
    if (!user) throw new Reject(`user ${userId} does not exist`);
    if (!user.email) throw new Reject(`user ${userId} has no email address`);
    const messageId = await sendEmail(ses, {
      from: settings.sesSender,
      to: user.email,
      subject,
      text: message,
    });
    return `Email sent to ${user.email} (${messageId})`;
  },
  {
    argsSchema: z.tuple([nonEmpty(), z.string(), z.string()]),
    autoretryFor: [...SES_THROTTLING_ERRORS],
    maxRetries: 5,
    retryBackoff: 2,
    retryBackoffMax: 300,
    timeLimit: 60,
  },
);

/**
 * `cleanup_old_notifications()`: deletes read notifications created more than 90 days ago.
 * They are found through the sparse `readByCreatedAt` index, one Query per shard, and deleted in
 * batches of 25 as each page arrives. At the soft limit it stops and retries itself: what is
 * left is still in the index, so the next attempt carries on. Returns how many it deleted.
 */
export const cleanupOldNotifications = defineTask(
  'apps.notifications.tasks.cleanup_old_notifications',
  async (ctx) => {
    const { notificationsTable: table } = labControlSettings();
    const { dynamo } = getAwsClients();
    const cutoff = new Date(Date.now() - NOTIFICATION_RETENTION_DAYS * 86_400_000).toISOString();
    const counts = await Promise.all(
      Array.from({ length: READ_SHARDS }, async (_, shard) => {
        let deleted = 0;
        let startKey: Record<string, unknown> | undefined;
        do {
          ctx.signal.throwIfAborted();
          const page = await dynamo.send(
            new QueryCommand({
              TableName: table,
              IndexName: NotificationsTable.readIndex,
              KeyConditionExpression: '#shard = :shard AND createdAt < :cutoff',
              ExpressionAttributeNames: { '#shard': NotificationsTable.readIndexPartitionKey },
              ExpressionAttributeValues: { ':shard': `read#${shard}`, ':cutoff': cutoff },
              ProjectionExpression: NotificationsTable.partitionKey,
              ExclusiveStartKey: startKey,
            }),
          );
          const deletes: WriteRequest[] = (page.Items ?? []).map((item) => ({
            DeleteRequest: { Key: { notificationId: item.notificationId } },
          }));
          deleted += await batchWrite(dynamo, table, deletes, { concurrency: 4 });
          startKey = page.LastEvaluatedKey;
        } while (startKey);
        return deleted;
      }),
    );
    return counts.reduce((a, b) => a + b, 0);
  },
  {
    softTimeLimit: 540,
    timeLimit: 600,
    autoretryFor: ['SoftTimeLimitExceeded', 'BatchWriteIncomplete'],
    retryBackoff: true,
    maxRetries: 5,
  },
);

/**
 * `send_bulk_notification(user_ids, title, message, type)`: one in-app notification per user.
 * Each notification's id is the task id and the user's, so a retried or redelivered run writes
 * the same items again instead of doubling them; `broadcastId` (the task id) ties them together
 * in the `byBroadcast` index. 10,000 users are 400 batches, eight in flight: seconds, well
 * inside the ten-minute limit set for a throttled table.
 */
export const sendBulkNotification = defineTask(
  'apps.notifications.tasks.send_bulk_notification',
  async (ctx, userIds: string[], title: string, message: string, type: string) => {
    const { notificationsTable: table } = labControlSettings();
    const { dynamo } = getAwsClients();
    const createdAt = new Date().toISOString();
    const broadcastId = ctx.request.id;
    // One batch may not name a key twice, and a user listed twice wants one notification.
    const requests: WriteRequest[] = [...new Set(userIds)].map((userId) => ({
      PutRequest: {
        Item: {
          ...notificationItem({
            notificationId: `${broadcastId}:${userId}`,
            userId,
            title,
            message,
            type,
            createdAt,
            broadcastId,
          }),
        },
      },
    }));
    const written = await batchWrite(dynamo, table, requests, { concurrency: 8, signal: ctx.signal });
    ctx.signal.throwIfAborted();
    return `Created ${written} notifications`;
  },
  {
    argsSchema: z.tuple([
      z.array(nonEmpty()).check(
        z.minLength(1),
        z.maxLength(MAX_BULK_RECIPIENTS, {
          error: `must list at most ${MAX_BULK_RECIPIENTS} users; split larger sends`,
        }),
      ),
      nonEmpty(),
      z.string(),
      nonEmpty(),
    ]),
    softTimeLimit: 540,
    timeLimit: 600,
    autoretryFor: ['SoftTimeLimitExceeded', 'BatchWriteIncomplete'],
    retryBackoff: true,
    maxRetries: 3,
  },
);
