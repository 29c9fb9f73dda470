import { randomUUID } from 'node:crypto';
import { type Context, Hono } from 'hono';
import { ValidationError } from '../errors.ts';
import { createLogger, type Logger } from '../log.ts';
import type { OpsContext } from '../ops/context.ts';
import * as z from '../schema.ts';
import { bearerToken, holderOf, type NamedToken, type TokenSource } from './auth.ts';
import { ForbiddenError, PayloadTooLargeError, UnauthorizedError } from './errors.ts';
import { openApiRoute } from './openapi.ts';
import { errorResponse, issuesOf } from './respond.ts';
import type { AdminRoute, ZodType } from './route.ts';
import { adminRoutes } from './routes/index.ts';
import { DASHBOARD_FILES, dashboardResponse } from './static.ts';

/** The largest request body the API reads (64 KiB): a periodic task or an apply fits many times over. */
export const MAX_BODY_BYTES = 64 * 1024;

export interface AdminAppOptions {
  ctx: OpsContext;
  tokens: TokenSource;
  /** @defaultValue every route of `routes/index.ts`, and the OpenAPI document's */
  routes?: readonly AdminRoute[];
  /** @defaultValue MAX_BODY_BYTES */
  maxBodyBytes?: number;
  /** Where audit and error lines go. @defaultValue a JSON logger at level info, whatever LOG_LEVEL says */
  logger?: Logger;
  /** The invocation's id (Lambda's request id); @defaultValue a fresh UUID per request */
  requestId?: (c: Context) => string | undefined;
}

type Env = { Variables: { holder: NamedToken; requestId: string } };

/** The routes an app serves: the given ones and the OpenAPI document built from them. */
export function servedRoutes(routes: readonly AdminRoute[] = adminRoutes): AdminRoute[] {
  return [...routes, openApiRoute(routes)];
}

/** `/api/tasks/{id}` → Hono's `/api/tasks/:id`. */
const honoPath = (path: string) => path.replace(/\{([^}]+)\}/g, ':$1');

/**
 * The admin API as a Hono app: one handler per route of the list, each checking the bearer token
 * and the role, validating params, query and body with the route's schemas, and answering JSON.
 * The same app runs on Lambda (`hono/aws-lambda`) and on Node (the local cloud), and tests call
 * it in process with `app.request()`.
 */
export function createAdminApp(options: AdminAppOptions): Hono<Env> {
  const maxBodyBytes = options.maxBodyBytes ?? MAX_BODY_BYTES;
  // Audit lines are written whatever LOG_LEVEL says: a quieter log must not drop who changed what.
  const logger = options.logger ?? createLogger({ component: 'admin-api' }, { level: 'info' });
  const app = new Hono<Env>();

  // The dashboard's page and scripts hold no data: served without a token, ahead of the API's check.
  for (const path of Object.keys(DASHBOARD_FILES)) {
    app.get(path, (c) => dashboardResponse(c.req.path) ?? c.notFound());
  }

  app.use('/api/*', async (c, next) => {
    c.set('requestId', options.requestId?.(c) ?? randomUUID());
    const token = bearerToken(c.req.header('authorization'));
    if (token === undefined) throw new UnauthorizedError('missing');
    const holder = holderOf(await options.tokens.tokens(), token);
    if (!holder) throw new UnauthorizedError('invalid');
    c.set('holder', holder);
    await next();
  });

  for (const route of servedRoutes(options.routes)) {
    app.on(route.method, honoPath(route.path), async (c) => {
      const holder = c.get('holder');
      const write = route.method !== 'GET';
      let ids: Record<string, unknown> = c.req.param();
      try {
        if (route.role === 'admin' && holder.role !== 'admin') {
          throw new ForbiddenError(
            `${route.method} ${route.path} needs the admin token; this is the ${holder.role} token`,
          );
        }
        const input = {
          params: validate('params', route.params, c.req.param()),
          query: validate('query', route.query, c.req.query()),
          body: validate('body', route.body, route.body ? await readJson(c, maxBodyBytes) : undefined),
        };
        ids = { ...ids, ...idsIn(input.body) };
        const out = await route.handle({
          ...input,
          ctx: options.ctx,
          actor: holder.name,
          role: holder.role,
          signal: c.req.raw.signal,
        });
        const status = out.status ?? 200;
        if (write) audit(logger, c, holder, status, ids);
        return c.json(out.body as object, status as 200, out.headers);
      } catch (error) {
        const response = respond(logger, c, error);
        if (write) audit(logger, c, holder, response.status, ids);
        return response;
      }
    });
  }

  app.notFound((c) =>
    c.json(
      {
        error: { type: 'NotFound', message: `no route ${c.req.method} ${c.req.path}; see /api/openapi.json` },
      },
      404,
    ),
  );
  app.onError((error, c) => {
    const response = respond(logger, c, error);
    // Writes refused before a route is reached (no or a wrong token) are audited too.
    if (c.req.method !== 'GET' && c.req.method !== 'HEAD') audit(logger, c, undefined, response.status);
    return response;
  });
  return app;
}

function validate(where: string, schema: ZodType | undefined, value: unknown): unknown {
  if (!schema) return value;
  const result = z.safeParse(schema, value);
  if (!result.success) throw issuesOf(where, result.error.issues);
  return result.data;
}

/** The body as JSON; refused over the limit (by its declared length first, then what arrived). */
async function readJson(c: Context, limit: number): Promise<unknown> {
  const declared = Number(c.req.header('content-length'));
  if (Number.isFinite(declared) && declared > limit) throw new PayloadTooLargeError(limit);
  const bytes = new Uint8Array(await c.req.arrayBuffer());
  if (bytes.byteLength > limit) throw new PayloadTooLargeError(limit);
  if (bytes.byteLength === 0) return undefined;
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw ValidationError.of('body', 'is not UTF-8 text');
  }
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    throw ValidationError.of('body', `is not JSON (${(error as Error).message})`);
  }
}

function respond(logger: Logger, c: Context<Env>, error: unknown): Response {
  const requestId = c.get('requestId') ?? randomUUID();
  const { status, body, headers } = errorResponse(error, requestId);
  if (status >= 500) {
    logger.error('admin request failed', {
      requestId,
      method: c.req.method,
      path: c.req.path,
      error: (error as Error)?.message,
      errorType: (error as Error)?.name,
      stack: (error as Error)?.stack,
    });
  }
  return c.json(body, status as 400, headers);
}

/** One JSON line per write: who, what, when and how it ended. Never the token. */
/** The ids a validated body names (a created periodic task's `name`, an applied task's `taskId`). */
function idsIn(body: unknown): Record<string, string> {
  if (!body || typeof body !== 'object') return {};
  const named = body as Record<string, unknown>;
  return Object.fromEntries(
    ['name', 'id', 'taskId', 'task'].flatMap((key) =>
      typeof named[key] === 'string' ? [[key, named[key] as string]] : [],
    ),
  );
}

function audit(
  logger: Logger,
  c: Context<Env>,
  holder: NamedToken | undefined,
  status: number,
  ids: Record<string, unknown> = c.req.param(),
): void {
  logger.info('admin audit', {
    audit: true,
    requestId: c.get('requestId'),
    who: holder ? { role: holder.role, name: holder.name } : { role: 'anonymous' },
    method: c.req.method,
    path: c.req.path,
    ids,
    at: new Date().toISOString(),
    status,
  });
}
