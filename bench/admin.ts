/**
 * The admin API's tasks list over a full results table (issue #11, must-show 5): p50 and p95 of
 * `GET /api/tasks` pages of 50, unfiltered and filtered, and the DynamoDB requests each page costs,
 * counted by the same SDK middleware as the rest of the bench. The app runs in process (Hono's
 * `app.request()`), so the latency is the route, the listing and the emulator's Query, not a socket.
 */
import { BatchWriteCommand } from '@aws-sdk/lib-dynamodb';
import { startLocalCloud } from '../localstack/local-cloud.ts';
import { createAdminApp } from '../shared/admin/app.ts';
import { staticTokens } from '../shared/admin/auth.ts';
import { createLogger } from '../shared/log.ts';
import { withIndexKeys } from '../shared/results/indexes.ts';
import type { TaskResultRecord } from '../shared/results/record.ts';
import { defaultRegistry } from '../shared/task/registry.ts';
import { TaskState } from '../shared/task/states.ts';

export interface ListingFigures {
  /** What the page was asked for, as its query string. */
  filter: string;
  pages: number;
  p50Ms: number;
  p95Ms: number;
  /** DynamoDB requests per page, on average, and at most. */
  requestsPerPage: number;
  maxRequestsPerPage: number;
}

export interface AdminListingFigures {
  results: number;
  seedSeconds: number;
  listings: ListingFigures[];
}

const PAGE = 50;
const TOKEN = 'bench-admin-token-0123456789';
const NAMES = [
  'apps.notifications.tasks.send_email_notification',
  'apps.studies.tasks.process',
  'apps.demo.tasks.noop',
];

/**
 * The stored results: creation one second apart, three task names, and the states a busy day
 * leaves (one in ten FAILURE, one in fifty RETRY, one in a hundred STARTED, the rest SUCCESS).
 */
function row(i: number, base: number): TaskResultRecord {
  const status =
    i % 100 === 7
      ? TaskState.STARTED
      : i % 50 === 3
        ? TaskState.RETRY
        : i % 10 === 1
          ? TaskState.FAILURE
          : TaskState.SUCCESS;
  const created = new Date(base + i * 1000).toISOString();
  return {
    taskId: `bench-${String(i).padStart(6, '0')}`,
    taskName: NAMES[i % NAMES.length] as string,
    status,
    args: JSON.stringify([i]),
    kwargs: '{}',
    dateCreated: created,
    dateStarted: created,
    ...(status === TaskState.STARTED ? {} : { dateDone: new Date(base + i * 1000 + 250).toISOString() }),
    queue: 'default',
  };
}

const percentile = (sorted: readonly number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;

/**
 * Seeds `results` rows (with their index keys, as the store writes them) and walks each listing
 * page by page along its cursor, up to `pagesPerListing` pages, timing every page.
 */
export async function measureAdminListing(
  results: number,
  pagesPerListing = 40,
): Promise<AdminListingFigures> {
  const cloud = await startLocalCloud({ workers: false, streams: false, clock: false, logLevel: 'silent' });
  try {
    const table = cloud.config.resultsTable as string;
    const base = Date.now() - results * 1000;
    const t0 = performance.now();
    const batches = Array.from({ length: Math.ceil(results / 25) }, (_, b) => b);
    // A few batches at once: seeding is not what is measured, and the emulator serialises anyway.
    for (let i = 0; i < batches.length; i += 8) {
      await Promise.all(
        batches.slice(i, i + 8).map((b) =>
          cloud.clients.dynamo.send(
            new BatchWriteCommand({
              RequestItems: {
                [table]: Array.from({ length: Math.min(25, results - b * 25) }, (_, k) => ({
                  PutRequest: { Item: withIndexKeys(row(b * 25 + k, base)) },
                })),
              },
            }),
          ),
        ),
      );
    }
    const seedSeconds = (performance.now() - t0) / 1000;
    const app = createAdminApp({
      ctx: { config: cloud.config, clients: cloud.clients, registry: defaultRegistry },
      tokens: staticTokens([{ role: 'viewer', name: 'bench', token: TOKEN }]),
      logger: createLogger({ component: 'bench' }, { write: () => {} }),
    });
    const filters = [
      '',
      'state=FAILURE',
      `name=${NAMES[0]}`,
      `state=FAILURE&name=${NAMES[0]}`,
      'state=FAILURE,RETRY',
    ];
    const listings: ListingFigures[] = [];
    for (const filter of filters) {
      const times: number[] = [];
      const requests: number[] = [];
      let cursor: string | undefined;
      for (let page = 0; page < pagesPerListing; page++) {
        const query = new URLSearchParams(filter);
        query.set('limit', String(PAGE));
        if (cursor) query.set('cursor', cursor);
        const before = cloud.clients.requests.total;
        const start = performance.now();
        const res = await app.request(`/api/tasks?${query}`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        });
        const body = (await res.json()) as { items?: unknown[]; cursor?: string };
        times.push(performance.now() - start);
        requests.push(cloud.clients.requests.total - before);
        if (res.status !== 200)
          throw new Error(`GET /api/tasks?${query}: ${res.status} ${JSON.stringify(body)}`);
        cursor = body.cursor;
        if (!cursor) break;
      }
      const sorted = [...times].sort((a, b) => a - b);
      listings.push({
        filter: filter || '(none)',
        pages: times.length,
        p50Ms: percentile(sorted, 50),
        p95Ms: percentile(sorted, 95),
        requestsPerPage: requests.reduce((a, b) => a + b, 0) / requests.length,
        maxRequestsPerPage: Math.max(...requests),
      });
    }
    return { results, seedSeconds, listings };
  } finally {
    await cloud.stop();
  }
}
