import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ScanCommand } from '@aws-sdk/lib-dynamodb';
import fc from 'fast-check';
import { beforeAll, describe, expect, it } from 'vitest';
import { MAX_BODY_BYTES } from '../../shared/admin/app.ts';
import type { AdminRoute } from '../../shared/admin/route.ts';
import * as z from '../../shared/schema.ts';
import { pathOf, useAdminApi } from '../support/admin.ts';

const api = useAdminApi();
/** At least 500 generated bad inputs per write route, as the issue asks. */
const RUNS = 500;
const SEED = 'fuzz seed';
const FUZZ_TIMEOUT_MS = 600_000;

/** Everything a write could change: every table's items and every queue's counts. */
async function snapshot(): Promise<string> {
  const { stack } = api();
  const tables: Record<string, unknown[]> = {};
  for (const table of Object.values(stack.resources.tables)) {
    const items: unknown[] = [];
    let start: Record<string, unknown> | undefined;
    do {
      const page = await stack.clients.dynamo.send(
        new ScanCommand({ TableName: table.name, ...(start ? { ExclusiveStartKey: start } : {}) }),
      );
      items.push(...(page.Items ?? []));
      start = page.LastEvaluatedKey;
    } while (start);
    tables[table.logicalId] = items.map((i) => JSON.stringify(i)).sort();
  }
  const queues: Record<string, unknown> = {};
  for (const queue of Object.values(stack.resources.queues)) {
    const { Attributes = {} } = await stack.clients.sqs.send(
      new GetQueueAttributesCommand({
        QueueUrl: queue.url,
        AttributeNames: [
          'ApproximateNumberOfMessages',
          'ApproximateNumberOfMessagesNotVisible',
          'ApproximateNumberOfMessagesDelayed',
        ],
      }),
    );
    queues[queue.logicalId] = Attributes;
  }
  return JSON.stringify({ tables, queues });
}

const json = fc.jsonValue({ maxDepth: 3 });
/** A path segment: anything, including what needs encoding, empty-ish and very long ones. */
const segment = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 20 }),
  fc.constantFrom('..', '%', '%E0%A4%A', ' ', '\u0000', 'x'.repeat(300), 'null', '[]'),
);
const fuzzKey = fc.string({ minLength: 1, maxLength: 12 }).map((k) => `__fuzz_${k}`);

/** A valid definition with one thing wrong: an unknown key, or a field of the wrong type. */
const brokenDefinition = fc.oneof(
  fc.record({ key: fuzzKey, value: json }).map(({ key, value }) => ({
    name: SEED,
    task: 'apps.demo.tasks.add',
    interval: { every: 5, period: 'minutes' },
    [key]: value,
  })),
  fc
    .record({
      field: fc.constantFrom(
        'name',
        'task',
        'queue',
        'description',
        'enabled',
        'interval',
        'crontab',
        'priority',
      ),
      // Wrong for every one of these fields (no boolean: `enabled` takes one; no whole number: `priority` does).
      value: fc.oneof(fc.integer({ min: -1e6, max: -1 }), fc.constantFrom([], { x: 1 }, 0.5)),
    })
    .map(({ field, value }) => ({
      name: SEED,
      task: 'apps.demo.tasks.add',
      interval: { every: 5, period: 'minutes' },
      [field]: value,
    })),
);

type Input = {
  name: string;
  query: Record<string, string>;
  body?: unknown;
  rawBody?: string;
  contentType?: string;
};

/** Bad inputs for a route: its path parameters random (nothing exists under them) or the seed's with a broken body. */
function badInputs(route: AdminRoute): fc.Arbitrary<Input> {
  const query = fc.dictionary(fc.string({ maxLength: 10 }), fc.string({ maxLength: 30 }), { maxKeys: 3 });
  // A well-formed task id is a fair target, not a bad input: revoking one not seen yet is how a
  // queued task is revoked (Celery's pre-revoke), and it writes its REVOKED row.
  const takesId = /\{id\}/.test(route.path);
  const target = segment.filter((s) => !(takesId && /^[A-Za-z0-9_.:-]+$/.test(s)));
  const randomTarget = fc.record({
    name: target.filter((s) => s !== SEED),
    query,
    body: fc.option(json, { nil: undefined }),
  });
  const raw = fc.record({
    name: target,
    query,
    rawBody: fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.constant('{"a":'),
      fc.constant('x'.repeat(MAX_BODY_BYTES + 1)),
    ),
    contentType: fc.constantFrom('application/json', 'text/plain', 'application/x-www-form-urlencoded', ''),
  });
  // PUT and PATCH of the seed itself with a definition that must be refused.
  const seedBroken = fc.record({ name: fc.constant(SEED), query, body: brokenDefinition });
  return route.body && /\{name\}/.test(route.path)
    ? fc.oneof(randomTarget, raw, seedBroken)
    : route.body
      ? fc.oneof(raw, fc.record({ name: segment, query, body: fc.oneof(json, brokenDefinition) }))
      : fc.oneof(randomTarget, raw);
}

beforeAll(async () => {
  const seeded = await api().request('POST', '/api/periodic-tasks', {
    body: { name: SEED, task: 'apps.demo.tasks.add', interval: { every: 5, period: 'minutes' } },
  });
  expect(seeded.status).toBe(201);
});

/** The path parameters an input gives a route (`{name}`, `{id}`: the same generated segment). */
function paramsOf(route: AdminRoute, input: Input): Record<string, string> {
  const names = [...route.path.matchAll(/\{([^}]+)\}/g)].map((m) => m[1] as string);
  return Object.fromEntries(names.map((name) => [name, input.name]));
}

/**
 * Whether the route's own schemas take this input. What they refuse is bad input by definition;
 * what they take may still be bad (an unknown name: 404) or may be a harmless valid request (a
 * revoke of an id nobody used is accepted and remembered, as Celery's is).
 */
function schemasTake(route: AdminRoute, input: Input): boolean {
  const ok = (schema: AdminRoute['params'], value: unknown) => !schema || z.safeParse(schema, value).success;
  let body: unknown = input.body;
  if (route.body && input.rawBody !== undefined) {
    if (input.rawBody.length > MAX_BODY_BYTES) return false;
    try {
      body = input.rawBody === '' ? undefined : JSON.parse(input.rawBody);
    } catch {
      return false;
    }
  }
  const params = paramsOf(route, input);
  return ok(route.params, params) && ok(route.query, input.query) && (!route.body || ok(route.body, body));
}

async function send(route: AdminRoute, input: Input) {
  return api().request(route.method, pathOf(route, paramsOf(route, input)), {
    query: input.query,
    ...(input.rawBody !== undefined ? { rawBody: input.rawBody } : { body: input.body }),
    ...(input.contentType !== undefined ? { headers: { 'content-type': input.contentType } } : {}),
  });
}

describe('fuzzing every route that writes', () => {
  it(
    `answers ${RUNS}+ generated bad inputs per write route with 4xx (never 5xx), and nothing in the tables or queues changes`,
    async () => {
      const writes = api().routes.filter((r) => r.method !== 'GET' && r.role === 'admin');
      expect(writes.length).toBeGreaterThan(5);
      const accepted: string[] = [];
      for (const route of writes) {
        const what = `${route.method} ${route.path}`;
        let refused = 0;
        let took = false;
        let before = await snapshot();
        // Everything the generators make: never a 5xx; what the schemas refuse, always a 4xx.
        await fc.assert(
          fc.asyncProperty(badInputs(route), async (input) => {
            const response = await send(route, input);
            const label = `${what} ${JSON.stringify(input).slice(0, 300)}`;
            expect(response.status, label).toBeLessThan(500);
            if (!schemasTake(route, input)) expect(response.status, label).toBeGreaterThanOrEqual(400);
            if (response.status >= 400) {
              refused++;
              expect(response.body?.error?.type, label).toEqual(expect.any(String));
            } else took = true;
          }),
          { numRuns: RUNS, seed: 11 },
        );
        if (took) {
          // It took some valid input (and may have acted on it): only what follows is counted, all
          // of it refused by the route's schemas, and the tables and queues are compared from here.
          accepted.push(what);
          before = await snapshot();
          refused = 0;
        }
        // Up to RUNS refused inputs, topped up with ones the route's schemas refuse (all must be 4xx).
        if (refused < RUNS) {
          await fc.assert(
            fc.asyncProperty(
              badInputs(route).filter((input) => !schemasTake(route, input)),
              async (input) => {
                const response = await send(route, input);
                const label = `${what} ${JSON.stringify(input).slice(0, 300)}`;
                expect(response.status, label).toBeGreaterThanOrEqual(400);
                expect(response.status, label).toBeLessThan(500);
                refused++;
              },
            ),
            { numRuns: RUNS - refused, seed: 12 },
          );
        }
        expect(refused, what).toBeGreaterThanOrEqual(RUNS);
        expect(await snapshot(), `${what} changed a table or a queue`).toBe(before);
      }
      // Only routes whose valid inputs are harmless by design may take a generated one.
      console.info(`routes that took some generated (schema-valid) input: ${accepted.join(', ') || 'none'}`);
    },
    FUZZ_TIMEOUT_MS,
  );
});
