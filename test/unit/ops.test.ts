import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import { parsePeriodicTask } from '../../shared/beat/model.ts';
import { resolveConfig } from '../../shared/config/config.ts';
import { describeSchedule, previewSchedule } from '../../shared/ops/beat.ts';
import { describeDeadLetter, taskReason } from '../../shared/ops/dead-letters.ts';
import { failureQueue } from '../../shared/ops/failure-queues.ts';
import { parseLogLine } from '../../shared/ops/logs.ts';
import { registeredTasks } from '../../shared/ops/registered.ts';
import {
  projectedAttributes,
  RESULT_INDEXES,
  type ResultIndex,
  withIndexKeys,
} from '../../shared/results/indexes.ts';
import { listTasks } from '../../shared/results/listing.ts';
import type { TaskResultRecord } from '../../shared/results/record.ts';
import { resolveTaskOptions } from '../../shared/task/options.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';

type Row = Pick<
  TaskResultRecord,
  'taskId' | 'status' | 'taskName' | 'dateCreated' | 'dateDone' | 'expiresAt' | 'leaseUntil'
>;

/** A document client that answers index queries from rows in memory, a page of `Limit` at a time. */
function fakeDynamo(rows: Row[]) {
  const queries: Record<string, unknown>[] = [];
  const client = {
    async send(command: { input: Record<string, unknown> }) {
      const input = command.input as {
        IndexName: ResultIndex;
        ExpressionAttributeValues: Record<string, unknown>;
        Limit: number;
        ExclusiveStartKey?: Row;
        FilterExpression?: string;
      };
      queries.push(input);
      const { partitionKey, sortKey } = RESULT_INDEXES[input.IndexName];
      const values = input.ExpressionAttributeValues;
      let lane = rows
        .map((r) => withIndexKeys(r))
        .filter((r) => (r as Record<string, unknown>)[partitionKey] === values[':pk'] && r.dateCreated)
        .filter((r) => !values[':since'] || (r.dateCreated as string) >= (values[':since'] as string))
        .sort(
          (a, b) =>
            (b[sortKey] as string).localeCompare(a[sortKey] as string) || b.taskId.localeCompare(a.taskId),
        );
      if (input.ExclusiveStartKey) {
        const at = lane.findIndex((r) => r.taskId === input.ExclusiveStartKey?.taskId);
        lane = lane.slice(at + 1);
      }
      const page = lane.slice(0, input.Limit);
      const more = lane.length > input.Limit;
      const now = values[':nowSeconds'] as number;
      const kept = page.filter(
        (r) =>
          (r.expiresAt === undefined || r.expiresAt > now) &&
          (values[':activeAt'] === undefined || (r.leaseUntil ?? 0) > (values[':activeAt'] as number)) &&
          (values[':s0'] === undefined ||
            Object.entries(values).some(([k, v]) => k.startsWith(':s') && v === r.status)),
      );
      const last = page.at(-1);
      return {
        Items: kept,
        ...(more && last
          ? {
              LastEvaluatedKey: {
                taskId: last.taskId,
                [partitionKey]: last[partitionKey as keyof Row],
                dateCreated: last.dateCreated,
              },
            }
          : {}),
      };
    },
  };
  return { dynamo: client as unknown as DynamoDBDocumentClient, queries };
}

const at = (minute: number) => new Date(Date.UTC(2026, 0, 1, 12, minute)).toISOString();
const now = new Date(Date.UTC(2026, 0, 1, 13));

describe('task listings from the results indexes', () => {
  const rows: Row[] = [
    { taskId: 's1', status: 'SUCCESS', taskName: 'a', dateCreated: at(1) },
    { taskId: 'f1', status: 'FAILURE', taskName: 'b', dateCreated: at(2) },
    { taskId: 's2', status: 'SUCCESS', taskName: 'a', dateCreated: at(3) },
    { taskId: 'r1', status: 'RETRY', taskName: 'a', dateCreated: at(4) },
    { taskId: 's3', status: 'SUCCESS', taskName: 'b', dateCreated: at(5) },
    { taskId: 'x1', status: 'SUCCESS', taskName: 'a', dateCreated: at(6), expiresAt: 1 },
    { taskId: 'p1', status: 'PENDING', taskName: 'a', dateCreated: at(7), leaseUntil: now.getTime() + 1000 },
  ];

  it('merges the state partitions newest first and pages through them with one cursor', async () => {
    const { dynamo } = fakeDynamo(rows);
    const seen: string[] = [];
    let cursor: string | undefined;
    do {
      const page = await listTasks(dynamo, 't', { limit: 2, ...(cursor ? { cursor } : {}) }, now);
      seen.push(...page.items.map((i) => i.taskId));
      cursor = page.cursor;
    } while (cursor);
    expect(seen).toEqual(['p1', 's3', 'r1', 's2', 'f1', 's1']);
  });

  it('reads one task name, filtering states; and finds live leases for inspect active', async () => {
    const { dynamo, queries } = fakeDynamo(rows);
    const page = await listTasks(dynamo, 't', { taskName: 'a', states: ['SUCCESS'] }, now);
    expect(page.items.map((i) => i.taskId)).toEqual(['s2', 's1']);
    expect(queries[0]).toMatchObject({ IndexName: 'byTaskName', ScanIndexForward: false });
    const active = await listTasks(
      dynamo,
      't',
      { states: ['STARTED', 'PENDING', 'RETRY'], activeAt: now.getTime() },
      now,
    );
    expect(active.items.map((i) => i.taskId)).toEqual(['p1']);
  });

  it('refuses a bad limit, state or cursor, naming it', async () => {
    const { dynamo } = fakeDynamo(rows);
    await expect(listTasks(dynamo, 't', { limit: 0 })).rejects.toThrow(
      'limit: must be a whole number from 1 to 1000',
    );
    await expect(listTasks(dynamo, 't', { states: ['DONE#1'] })).rejects.toThrow(
      'state: "DONE#1" is not a state name',
    );
    await expect(listTasks(dynamo, 't', { cursor: 'garbage' })).rejects.toThrow('cursor:');
  });

  it('projects the summary fields, not the large ones', () => {
    expect(projectedAttributes('byStatus')).toContain('taskName');
    // Partition keys are the derived `lk…` attributes: the listed fields themselves are projected.
    expect(projectedAttributes('byStatus')).toContain('status');
    expect(projectedAttributes('byTaskName')).toContain('status');
    expect(projectedAttributes('byDone')).toContain('dateCreated');
    expect(projectedAttributes('byDone')).not.toContain('dateDone');
    for (const index of Object.keys(RESULT_INDEXES) as ResultIndex[]) {
      expect(projectedAttributes(index)).not.toContain('result');
      expect(projectedAttributes(index)).not.toContain('args');
    }
  });
});

describe('registered tasks and schedules', () => {
  it('lists tasks with the queue the producer routes them to', () => {
    const registry = new TaskRegistry();
    const handler = () => null;
    registry.register({
      name: 'apps.x.tasks.b',
      options: resolveTaskOptions('apps.x.tasks.b', { rateLimit: '10/m' }),
      handler,
    });
    registry.register({
      name: 'apps.notifications.tasks.a',
      options: resolveTaskOptions('apps.notifications.tasks.a'),
      handler,
    });
    const config = resolveConfig({ taskRoutes: { 'apps.notifications.tasks.*': 'notifications' } }, {});
    expect(registeredTasks({ config, registry })).toEqual([
      expect.objectContaining({ name: 'apps.notifications.tasks.a', queue: 'notifications' }),
      expect.objectContaining({ name: 'apps.x.tasks.b', queue: 'default', rateLimit: '10/m' }),
    ]);
  });

  it('previews the next runs in the schedule zone', () => {
    const definition = parsePeriodicTask(
      { name: 'n', task: 'apps.a.b', crontab: { minute: '0', hour: '9', timezone: 'Europe/London' } },
      { now },
    );
    expect(describeSchedule(definition)).toBe('0 9 * * * (Europe/London)');
    const preview = previewSchedule(definition, { now, count: 2 });
    expect(preview).toMatchObject({
      timezone: 'Europe/London',
      times: ['2026-01-02T09:00:00.000Z', '2026-01-03T09:00:00.000Z'],
    });
    expect(() => previewSchedule(definition, { now, count: 0 })).toThrow('count:');
  });
});

describe('log lines', () => {
  it('reads our JSON, Lambda-prefixed JSON, and plain text', () => {
    const json =
      '{"time":"2026-01-01T00:00:00Z","level":"warn","message":"task will retry","component":"worker","taskId":"t"}';
    expect(parseLogLine(json)).toMatchObject({
      level: 'warn',
      message: 'task will retry',
      component: 'worker',
      fields: { taskId: 't' },
    });
    expect(parseLogLine(`2026-01-01T00:00:00Z\treq\tINFO\t${json}`)?.fields).toEqual({ taskId: 't' });
    expect(parseLogLine('START RequestId: abc', '2026-01-01T00:00:00Z')).toMatchObject({
      message: 'START RequestId: abc',
      level: 'info',
    });
    expect(parseLogLine('   ')).toBeUndefined();
  });
});

describe('failure-queue messages, each with its reason', () => {
  const text = (value: string) => ({ DataType: 'String', StringValue: value });
  const sent = { SentTimestamp: String(Date.parse('2026-01-01T09:00:00Z')), ApproximateReceiveCount: '2' };

  it("reads a Scheduler dead letter: its error attributes, and the target input's task", () => {
    const letter = describeDeadLetter('scheduler', {
      MessageId: 'm-1',
      Body: JSON.stringify({
        v: 1,
        id: '<aws.scheduler.execution-id>',
        task: 'apps.demo.tasks.add',
        args: [1, 2],
      }),
      Attributes: sent,
      MessageAttributes: {
        ERROR_CODE: text('AWS.SQS.NonExistentQueue'),
        ERROR_MESSAGE: text('The specified queue does not exist.'),
        EXECUTION_ID: text('exec-1'),
        RETRY_ATTEMPTS: { DataType: 'Number', StringValue: '9' },
        SCHEDULE_ARN: text('arn:aws:scheduler:eu-west-1:1:schedule/delays/job'),
        TARGET_ARN: text('arn:aws:sqs:eu-west-1:1:default'),
      },
    });
    expect(letter).toMatchObject({
      messageId: 'm-1',
      taskId: 'exec-1',
      task: 'apps.demo.tasks.add',
      receiveCount: 2,
      sentAt: '2026-01-01T09:00:00.000Z',
      reason: 'AWS.SQS.NonExistentQueue: The specified queue does not exist.',
      scheduler: { retryAttempts: 9, targetArn: 'arn:aws:sqs:eu-west-1:1:default', executionId: 'exec-1' },
    });
    expect(letter.body).toBeUndefined();
  });

  it('reads a beat-sync stream failure record: the condition and the shard and sequence range', () => {
    const record = {
      requestContext: {
        requestId: 'r',
        functionArn: 'arn:fn',
        condition: 'RetryAttemptsExhausted',
        approximateInvokeCount: 3,
      },
      responseContext: { statusCode: 200, executedVersion: '$LATEST', functionError: 'Unhandled' },
      version: '1.0',
      timestamp: '2026-01-01T09:00:00Z',
      DDBStreamBatchInfo: {
        shardId: 'shardId-0001',
        startSequenceNumber: '100',
        endSequenceNumber: '104',
        batchSize: 5,
        streamArn: 'arn:stream',
      },
    };
    const letter = describeDeadLetter('beat-sync', {
      MessageId: 'm-2',
      Body: JSON.stringify(record),
      Attributes: sent,
    });
    expect(letter.lambda).toEqual({
      condition: 'RetryAttemptsExhausted',
      functionError: 'Unhandled',
      approximateInvokeCount: 3,
      shardId: 'shardId-0001',
      startSequenceNumber: '100',
      endSequenceNumber: '104',
      batchSize: 5,
    });
    expect(letter.reason).toBe(
      'RetryAttemptsExhausted after 3 invocations, stream batch of 5 records, shard shardId-0001, sequence 100 to 104 (function error Unhandled)',
    );
    const async = describeDeadLetter('beat-sync', {
      Body: JSON.stringify({
        requestContext: { condition: 'RetriesExhausted', approximateInvokeCount: 3 },
        responsePayload: { errorType: 'AccessDeniedException', errorMessage: 'not allowed' },
      }),
    });
    expect(async.reason).toBe(
      'RetriesExhausted after 3 invocations, async invocation: AccessDeniedException: not allowed',
    );
  });

  it("gives a task message's reason from its result row, and shows a body that is no envelope", () => {
    expect(
      taskReason({
        status: 'FAILURE',
        errorType: 'TypeError',
        traceback: 'TypeError: x is not a function\n    at run',
      }),
    ).toBe('FAILURE: TypeError: x is not a function');
    expect(taskReason({ status: 'FAILURE', errorType: 'NotRegistered' })).toBe('FAILURE: NotRegistered');
    expect(describeDeadLetter('task', { Body: 'not json' })).toMatchObject({ body: 'not json' });
    expect(describeDeadLetter('beat-sync', { Body: '{"x":1}' })).toMatchObject({ body: '{"x":1}' });
  });
});

describe('failure queues by name', () => {
  const config = resolveConfig(
    {},
    {
      CELERITY_QUEUES: JSON.stringify({
        default: { url: 'http://sqs/default', arn: 'arn:aws:sqs:r:1:default' },
      }),
      CELERITY_SCHEDULER_GROUP: 'delays',
      CELERITY_SCHEDULER_ROLE_ARN: 'arn:aws:iam::1:role/scheduler',
      CELERITY_SCHEDULER_DLQ_ARN: 'arn:aws:sqs:r:1:scheduler-dlq',
    },
  );
  const asked: Record<string, unknown>[] = [];
  const sqs = {
    async send(command: { input: Record<string, unknown> }) {
      asked.push(command.input);
      return { QueueUrl: `http://sqs/${String(command.input.QueueName)}` };
    },
  };
  const ctx = { config, clients: { sqs, dynamo: {}, scheduler: {} }, registry: new TaskRegistry() } as never;

  it("finds the Scheduler's DLQ from the configuration when the target names none (an older state file)", async () => {
    await expect(failureQueue(ctx, 'scheduler')).resolves.toMatchObject({
      name: 'scheduler',
      kind: 'scheduler',
      url: 'http://sqs/scheduler-dlq',
    });
    expect(asked).toContainEqual({ QueueName: 'scheduler-dlq', QueueOwnerAWSAccountId: '1' });
  });

  it('says which names there are, and how to get a beat-sync queue the target does not name', async () => {
    await expect(failureQueue(ctx, 'nope')).rejects.toThrow(
      'no dead-letter queue "nope" (known: default, scheduler, beat-sync)',
    );
    await expect(failureQueue(ctx, 'beat-sync')).rejects.toThrow(/restart `npm run dev`/);
  });
});
