import { SESServiceException } from '@aws-sdk/client-ses';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batchWrite, type WriteRequest } from '../../functions/tasks/batch-write.ts';
import { BatchWriteIncompleteError } from '../../functions/tasks/errors.ts';
import '../../functions/tasks/index.ts';
import { appointmentItem, notificationItem, READ_SHARDS, readShardOf } from '../../functions/tasks/model.ts';
import { sendBulkNotification, sendEmailNotification } from '../../functions/tasks/notifications.ts';
import { DEFAULT_SES_SENDER, LabControlEnv, labControlSettings } from '../../functions/tasks/settings.ts';
import { getAwsClients, resetAwsClients } from '../../shared/aws/index.ts';
import type { TaskRequest } from '../../shared/task/context.ts';
import { validateArgs } from '../../shared/task/index.ts';
import { executeTask } from '../../shared/worker/execute.ts';

const env = {
  [LabControlEnv.usersTable]: 'users',
  [LabControlEnv.appointmentsTable]: 'appointments',
  [LabControlEnv.notificationsTable]: 'notifications',
  [LabControlEnv.studiesTable]: 'studies',
};

const request = (retries = 0): TaskRequest => ({
  id: 'task-1',
  task: sendEmailNotification.name,
  retries,
  eta: undefined,
  expires: undefined,
  origin: undefined,
  parentId: undefined,
  rootId: undefined,
  periodicTask: undefined,
  queue: 'notifications',
  deliveryCount: 1,
  isEager: false,
});

const throttled = (name: string) =>
  new SESServiceException({
    name,
    $fault: 'client',
    $metadata: { httpStatusCode: 400 },
    message: 'Maximum sending rate exceeded.',
  });

describe('send_email_notification, with fake AWS clients', () => {
  beforeEach(() => {
    vi.stubEnv('AWS_REGION', 'us-east-1');
    for (const [key, value] of Object.entries(env)) vi.stubEnv(key, value);
    resetAwsClients();
  });
  afterEach(() => {
    vi.restoreAllMocks();
    vi.unstubAllEnvs();
    resetAwsClients();
  });

  const fakeUser = (item: Record<string, unknown> | undefined) =>
    vi.spyOn(getAwsClients().dynamo, 'send').mockImplementation((async () => ({ Item: item })) as never);
  const run = (retries: number, args: unknown[] = ['u-1', 'Subject', 'Body']) =>
    executeTask(sendEmailNotification, { request: request(retries), args, kwargs: {}, random: () => 0.5 });

  it('sends from the configured sender to the user', async () => {
    fakeUser({ userId: 'u-1', email: 'u1@example.com', name: 'U' });
    const send = vi
      .spyOn(getAwsClients().ses, 'send')
      .mockImplementation((async () => ({ MessageId: 'm-1' })) as never);
    const outcome = await run(0);
    expect(outcome).toMatchObject({ kind: 'success', result: 'Email sent to u1@example.com (m-1)' });
    const input = (send.mock.calls[0]?.[0] as unknown as { input: Record<string, unknown> } | undefined)
      ?.input;
    expect(input).toMatchObject({
      Source: DEFAULT_SES_SENDER,
      Destination: { ToAddresses: ['u1@example.com'] },
    });
  });

  it('fails an unknown user at once, naming the id, without a retry', async () => {
    fakeUser(undefined);
    const send = vi.spyOn(getAwsClients().ses, 'send');
    const outcome = await run(0);
    expect(outcome.kind).toBe('failure');
    expect((outcome as { error: Error }).error).toMatchObject({
      name: 'Reject',
      message: 'user u-1 does not exist',
    });
    expect(send).not.toHaveBeenCalled();
  });

  it.each(['Throttling', 'ThrottlingException', 'MaxSendingRateExceeded'])(
    'retries SES %s with exponential backoff, then gives up after five retries',
    async (name) => {
      fakeUser({ userId: 'u-1', email: 'u1@example.com', name: 'U' });
      vi.spyOn(getAwsClients().ses, 'send').mockImplementation((async () => {
        throw throttled(name);
      }) as never);
      const first = await run(0);
      expect(first.kind).toBe('retry');
      const fourth = await run(3);
      expect(fourth.kind).toBe('retry');
      // Backoff 2 s × 2^retries with full jitter: the draw of 0.5 lands mid-range.
      expect((fourth as { countdown: number }).countdown).toBe(Math.floor(0.5 * (2 * 2 ** 3 + 1)));
      const last = await run(5);
      expect(last.kind).toBe('failure');
      expect((last as { error: Error }).error.name).toBe('MaxRetriesExceeded');
    },
  );

  it('does not retry other SES errors', async () => {
    fakeUser({ userId: 'u-1', email: 'u1@example.com', name: 'U' });
    vi.spyOn(getAwsClients().ses, 'send').mockImplementation((async () => {
      throw throttled('MessageRejected');
    }) as never);
    expect((await run(0)).kind).toBe('failure');
  });

  it('refuses bad arguments before any run', () => {
    expect(() => validateArgs(sendEmailNotification, ['', 'S', 'B'], {})).toThrow(/call\.args\.0/);
    expect(() => validateArgs(sendEmailNotification, ['u-1', 'S'], {})).toThrow(/call\.args/);
    const tooMany = Array.from({ length: 10_001 }, (_, i) => `u-${i}`);
    expect(() => validateArgs(sendBulkNotification, [tooMany, 'T', 'M', 'info'], {})).toThrow(
      /call\.args\.0: must list at most 10000 users/,
    );
  });
});

describe('LabControl settings', () => {
  it('names the missing variable, and defaults the sender', () => {
    expect(() => labControlSettings({ ...env, [LabControlEnv.usersTable]: '' })).toThrow(
      /LABCONTROL_USERS_TABLE is not set/,
    );
    expect(labControlSettings(env).sesSender).toBe(DEFAULT_SES_SENDER);
    expect(labControlSettings({ ...env, [LabControlEnv.sesSender]: 'lab@x.org' }).sesSender).toBe(
      'lab@x.org',
    );
  });
});

describe('LabControl records', () => {
  it('puts an appointment in the due-reminders index until it is reminded', () => {
    expect(appointmentItem({ appointmentId: 'a', userId: 'u', startsAt: '2030-05-01T23:30:00Z' })).toEqual({
      appointmentId: 'a',
      userId: 'u',
      startsAt: '2030-05-01T23:30:00.000Z',
      pendingReminderDay: '2030-05-01',
    });
    const reminded = appointmentItem({
      appointmentId: 'a',
      userId: 'u',
      startsAt: '2030-05-01T09:00:00Z',
      reminderSentAt: '2030-04-30T09:00:00Z',
    });
    expect(reminded.pendingReminderDay).toBeUndefined();
  });

  it('puts only read notifications in a stable read shard', () => {
    const base = { userId: 'u', title: 't', message: 'm', type: 'info', createdAt: '2030-01-01T00:00:00Z' };
    expect(notificationItem({ ...base, notificationId: 'n' }).readShard).toBeUndefined();
    const read = notificationItem({ ...base, notificationId: 'n', readAt: '2030-01-02T00:00:00Z' });
    expect(read).toMatchObject({ read: true, readShard: readShardOf('n') });
    const shards = new Set(Array.from({ length: 200 }, (_, i) => readShardOf(`n-${i}`)));
    expect(shards.size).toBe(READ_SHARDS);
  });
});

describe('batchWrite', () => {
  const puts = (n: number): WriteRequest[] =>
    Array.from({ length: n }, (_, i) => ({ PutRequest: { Item: { id: `k${i}` } } }));

  it('sends batches of 25 and resends what DynamoDB left unprocessed', async () => {
    const sizes: number[] = [];
    let refused = 0;
    const dynamo = {
      send: async (command: { input: { RequestItems: Record<string, WriteRequest[]> } }) => {
        const batch = command.input.RequestItems.t ?? [];
        sizes.push(batch.length);
        // The first sight of each batch leaves its last three items unprocessed.
        if (batch.length === 25 || (batch.length === 10 && refused < 5)) {
          refused++;
          return { UnprocessedItems: { t: batch.slice(-3) } };
        }
        return {};
      },
    } as unknown as DynamoDBDocumentClient;
    expect(await batchWrite(dynamo, 't', puts(60), { concurrency: 2 })).toBe(60);
    expect(sizes.filter((s) => s === 25)).toHaveLength(2);
    expect(sizes.filter((s) => s === 3)).toHaveLength(3);
  });

  it('gives up after its attempts, saying how many were left', async () => {
    const dynamo = {
      send: async (command: { input: { RequestItems: Record<string, WriteRequest[]> } }) => ({
        UnprocessedItems: { t: (command.input.RequestItems.t ?? []).slice(0, 1) },
      }),
    } as unknown as DynamoDBDocumentClient;
    const error = await batchWrite(dynamo, 't', puts(30), { maxAttempts: 2 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(BatchWriteIncompleteError);
    expect(error).toMatchObject({ unprocessed: 2 });
  });
});
