import { GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, it } from 'vitest';
import { CeleryResultWriter, celeryResultKey } from '../../shared/celery/result-backend.ts';
import { celeryMissing, readWithCelery } from '../support/celery-results/read.ts';
import { useEmulator } from '../support/emulator.ts';
import { type ProvisionedStack, provisionStack } from '../support/stack.ts';

// Debian's python3-celery (5.2.6) reads what the TypeScript writer wrote, through Celery's own
// DynamoDBBackend: the layout is checked by the reader it must satisfy, not by a copy of it.
const missing = celeryMissing;
const ci = process.env.CI === 'true';
if (missing && !ci) console.warn(`celery-results.test.ts skipped: ${missing}`);

const { endpoint } = useEmulator();
const read = (ids: readonly string[]) => readWithCelery(endpoint, table, ids);

let stack: ProvisionedStack;
let table: string;
let writer: CeleryResultWriter;
const expiresAt = Math.floor(Date.now() / 1000) + 3600;

beforeAll(async () => {
  stack = await provisionStack();
  table = stack.config.celeryResultsTable as string;
  writer = new CeleryResultWriter({ dynamo: stack.clients.dynamo, table });
});

describe.skipIf(missing !== undefined && !ci)(
  "Celery's own DynamoDB backend reads what the worker writes",
  () => {
    it('provisions the table from the template and hands its name to the worker', () => {
      if (missing) throw new Error(`CI=true but ${missing}`);
      expect(table).toMatch(/CeleryResults/);
    });

    it('reads SUCCESS, FAILURE, REVOKED and a PROGRESS with its meta through AsyncResult', async () => {
      const done = new Date().toISOString();
      const failed = await writer.writeOutcomes([
        {
          record: {
            taskId: 'celery-ok',
            status: 'SUCCESS',
            result: '{"sent":3,"to":["a@example.org"]}',
            dateDone: done,
            expiresAt,
          },
        },
        {
          record: {
            taskId: 'celery-bad',
            status: 'FAILURE',
            errorType: 'ValueError',
            traceback: 'ValueError: no such appointment 42\n    at remind (appointments.ts:12:11)',
            dateDone: done,
            expiresAt,
          },
        },
        {
          record: {
            taskId: 'celery-own-error',
            status: 'FAILURE',
            errorType: 'EmailDeliveryError',
            traceback: 'EmailDeliveryError: bounced\n    at send (email.ts:3:1)',
            dateDone: done,
            expiresAt,
          },
        },
        {
          record: {
            taskId: 'celery-pickled',
            status: 'FAILURE',
            errorType: 'ContentDisallowedError',
            traceback: 'ContentDisallowedError: Refusing to deserialize untrusted content of type pickle',
            dateDone: done,
            expiresAt,
            poison: true,
          },
        },
        {
          record: {
            taskId: 'celery-expired',
            status: 'REVOKED',
            errorType: 'TaskExpired',
            dateDone: done,
            expiresAt,
          },
        },
      ]);
      expect([...failed]).toEqual([]);
      expect(
        await writer.writeProgress({
          record: {
            taskId: 'celery-busy',
            status: 'PROGRESS',
            result: '{"current":3,"total":10}',
            expiresAt,
          },
        }),
      ).toBe(true);

      const [ok, bad, own, pickled, expired, busy, unknown] = await read([
        'celery-ok',
        'celery-bad',
        'celery-own-error',
        'celery-pickled',
        'celery-expired',
        'celery-busy',
        'celery-never-sent',
      ]);
      expect(ok).toMatchObject({
        status: 'SUCCESS',
        ready: true,
        get: { sent: 3, to: ['a@example.org'] },
        info: { sent: 3, to: ['a@example.org'] },
        traceback: null,
      });
      expect(ok?.date_done).toBe(`${done.slice(0, 23)}000`);
      expect(bad).toMatchObject({
        status: 'FAILURE',
        raised: { exception: 'ValueError', module: 'builtins', args: ['no such appointment 42'] },
        info: { exception: 'ValueError', args: ['no such appointment 42'] },
      });
      expect(bad?.traceback).toContain('at remind (appointments.ts:12:11)');
      expect(own?.raised).toMatchObject({ exception: 'EmailDeliveryError', args: ['bounced'] });
      expect(pickled?.raised).toMatchObject({
        exception: 'ContentDisallowed',
        module: 'kombu.exceptions',
        args: ['Refusing to deserialize untrusted content of type pickle'],
      });
      expect(expired?.raised).toMatchObject({
        exception: 'TaskRevokedError',
        module: 'celery.exceptions',
        args: ['expired'],
      });
      expect(busy).toMatchObject({
        status: 'PROGRESS',
        ready: false,
        info: { current: 3, total: 10 },
        raised: { exception: 'TimeoutError' },
      });
      expect(unknown).toMatchObject({ status: 'PENDING', ready: false });
    });

    it('never lets a late progress write hide a finished outcome', async () => {
      await writer.writeOutcomes([
        {
          record: {
            taskId: 'celery-late',
            status: 'SUCCESS',
            result: '7',
            dateDone: new Date().toISOString(),
            expiresAt,
          },
        },
      ]);
      expect(
        await writer.writeProgress({
          record: { taskId: 'celery-late', status: 'PROGRESS', result: '{}', expiresAt },
        }),
      ).toBe(false);
      const [late] = await read(['celery-late']);
      expect(late).toMatchObject({ status: 'SUCCESS', get: 7 });
      const { Item } = await stack.clients.dynamo.send(
        new GetCommand({ TableName: table, Key: { id: celeryResultKey('celery-late') } }),
      );
      expect(Item?.ttl).toBe(expiresAt);
    });
  },
);
