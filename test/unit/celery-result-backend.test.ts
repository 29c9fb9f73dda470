import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { describe, expect, it } from 'vitest';
import {
  CeleryResultWriter,
  celeryDate,
  celeryException,
  celeryItem,
  celeryMetaOf,
  celeryResultKey,
} from '../../shared/celery/result-backend.ts';
import type { TaskResultRecord } from '../../shared/results/record.ts';

const row = (fields: Partial<TaskResultRecord>): TaskResultRecord => ({
  taskId: 'f2b1c0de-1',
  taskName: 'apps.notifications.tasks.send_email_notification',
  status: 'SUCCESS',
  dateDone: '2026-12-01T07:04:43.327Z',
  expiresAt: 1_796_200_000,
  ...fields,
});

const decoded = (item: Record<string, unknown>) =>
  JSON.parse(new TextDecoder().decode(item.result as Uint8Array)) as Record<string, unknown>;

describe("Celery's DynamoDB result backend layout (celery 5.2.6)", () => {
  it('keys an item as Celery 5.2.6 does: str() of the bytes key, quotes and all', () => {
    expect(celeryResultKey('abc-1')).toBe("b'celery-task-meta-abc-1'");
  });

  it('writes id (S), result (B, JSON meta), timestamp (N seconds), ttl (N) and its own state', () => {
    const item = celeryItem(row({ result: '{"sent":3}' }), {}, 1_796_108_683_333);
    expect(item.id).toBe("b'celery-task-meta-f2b1c0de-1'");
    expect(item.result).toBeInstanceOf(Uint8Array);
    expect(item.timestamp).toBeCloseTo(1_796_108_683.333, 3);
    expect(item.ttl).toBe(1_796_200_000);
    expect(item.state).toBe('SUCCESS');
    expect(decoded(item)).toEqual({
      status: 'SUCCESS',
      result: { sent: 3 },
      traceback: null,
      children: [],
      date_done: '2026-12-01T07:04:43.327000',
      task_id: 'f2b1c0de-1',
    });
  });

  it('keeps a return of null, and the parent and group ids Celery keeps', () => {
    const meta = celeryMetaOf(row({ result: 'null' }), { parentId: 'p-1', groupId: 'g-1' });
    expect(meta).toMatchObject({ status: 'SUCCESS', result: null, parent_id: 'p-1', group_id: 'g-1' });
    expect(celeryMetaOf(row({})).result).toBeNull();
  });

  it("writes a FAILURE's error as Celery's prepare_exception does, with the traceback", () => {
    const traceback = 'TypeError: recipient must be an address\n    at send (email.ts:10:5)';
    const meta = celeryMetaOf(row({ status: 'FAILURE', errorType: 'TypeError', traceback }));
    expect(meta).toMatchObject({
      status: 'FAILURE',
      result: {
        exc_type: 'TypeError',
        exc_message: ['recipient must be an address'],
        exc_module: 'builtins',
      },
      traceback,
      date_done: '2026-12-01T07:04:43.327000',
    });
  });

  it("names Celery's own exceptions by Celery's module, and others by no module", () => {
    expect(celeryException('TimeLimitExceeded', 'TimeLimitExceeded: hard time limit (5 s) exceeded')).toEqual(
      {
        exc_type: 'TimeLimitExceeded',
        exc_message: ['hard time limit (5 s) exceeded'],
        exc_module: 'celery.exceptions',
      },
    );
    expect(celeryException('MaxRetriesExceeded', 'MaxRetriesExceeded: no more').exc_type).toBe(
      'MaxRetriesExceededError',
    );
    // A refused pickle body: kombu's own ContentDisallowed, as a Celery worker would have raised.
    expect(
      celeryException('ContentDisallowedError', 'ContentDisallowedError: Refusing to deserialize'),
    ).toEqual({
      exc_type: 'ContentDisallowed',
      exc_message: ['Refusing to deserialize'],
      exc_module: 'kombu.exceptions',
    });
    // Never a module we name for a type of ours: Celery would import it, or refuse it as unsafe.
    expect(celeryException('EmailDeliveryError', 'EmailDeliveryError: bounced')).toEqual({
      exc_type: 'EmailDeliveryError',
      exc_message: ['bounced'],
      exc_module: null,
    });
    expect(celeryException(undefined, undefined)).toEqual({
      exc_type: 'Error',
      exc_message: [''],
      exc_module: null,
    });
  });

  it("writes REVOKED as Celery's TaskRevokedError, expired or revoked", () => {
    const expired = celeryMetaOf(
      row({ status: 'REVOKED', errorType: 'TaskExpired', traceback: 'TaskExpired: x' }),
    );
    expect(expired.result).toEqual({
      exc_type: 'TaskRevokedError',
      exc_message: ['expired'],
      exc_module: 'celery.exceptions',
    });
    expect(
      (celeryMetaOf(row({ status: 'REVOKED' })).result as { exc_message: string[] }).exc_message,
    ).toEqual(['revoked']);
  });

  it('writes a custom state with its meta as the result and no date_done (not ready)', () => {
    const meta = celeryMetaOf(
      row({ status: 'PROGRESS', result: '{"current":3,"total":10}', dateDone: undefined }),
    );
    expect(meta).toEqual({
      status: 'PROGRESS',
      result: { current: 3, total: 10 },
      traceback: null,
      children: [],
      date_done: null,
      task_id: 'f2b1c0de-1',
    });
  });

  it('writes RETRY with the error that made the task retry, as Celery does', () => {
    const meta = celeryMetaOf(
      row({ status: 'RETRY', errorType: 'ConnectionError', traceback: 'ConnectionError: down' }),
    );
    expect(meta.result).toEqual({
      exc_type: 'ConnectionError',
      exc_message: ['down'],
      exc_module: 'builtins',
    });
    expect(meta.date_done).toBeNull();
  });

  it("dates like Python's utcnow().isoformat()", () => {
    expect(celeryDate('2026-01-02T03:04:05.006Z')).toBe('2026-01-02T03:04:05.006000');
    expect(celeryDate(undefined, new Date('2026-01-02T03:04:05Z'))).toBe('2026-01-02T03:04:05.000000');
  });
});

describe('CeleryResultWriter', () => {
  const fake = (fail: (input: Record<string, unknown>) => Error | undefined) => {
    const sent: Record<string, unknown>[] = [];
    const dynamo = {
      send: async (command: { input: Record<string, unknown> }) => {
        sent.push(command.input);
        const error = fail(command.input);
        if (error) throw error;
        return {};
      },
    } as unknown as DynamoDBDocumentClient;
    return { writer: new CeleryResultWriter({ dynamo, table: 'celery' }), sent };
  };

  it('names the outcomes it could not write and writes the others, each on its own', async () => {
    const { writer, sent } = fake((input) =>
      (input.Item as { id: string }).id.includes('bad')
        ? Object.assign(new Error('slow down'), { name: 'ThrottlingException' })
        : undefined,
    );
    const failed = await writer.writeOutcomes([
      { record: row({ taskId: 'good' }) },
      { record: row({ taskId: 'bad' }) },
    ]);
    expect([...failed]).toEqual(['bad']);
    expect(sent).toHaveLength(2);
    // A plain put: the same row makes the same item, so a redelivery may write it again.
    expect(sent[0]?.ConditionExpression).toBeUndefined();
  });

  it('refuses a progress write once the item holds a ready state', async () => {
    const conditional = Object.assign(new Error('condition'), { name: 'ConditionalCheckFailedException' });
    const { writer, sent } = fake(() => conditional);
    expect(await writer.writeProgress({ record: row({ status: 'PROGRESS', result: '{}' }) })).toBe(false);
    expect(sent[0]?.ConditionExpression).toContain('NOT #state IN (:success, :failure, :revoked)');
    const other = fake(() => Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(other.writer.writeProgress({ record: row({ status: 'PROGRESS' }) })).rejects.toThrow(
      'denied',
    );
  });
});
