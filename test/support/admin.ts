import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Hono } from 'hono';
import { beforeAll } from 'vitest';
import { controlClientsOf } from '../../shared/aws/control-clients.ts';
import '../../functions/tasks/index.ts';
import { ADMIN_ENTRY } from '../../localstack/lambda/admin-server.ts';
import { createAdminApp, servedRoutes } from '../../shared/admin/app.ts';
import { AdminTokenEnv, secretTokens } from '../../shared/admin/auth.ts';
import type { AdminRoute } from '../../shared/admin/route.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { functionConfig } from '../../shared/config/config.ts';
import { createLogger } from '../../shared/log.ts';
import type { OpsContext } from '../../shared/ops/context.ts';
import { defaultRegistry } from '../../shared/task/registry.ts';
import { useEmulator } from './emulator.ts';
import { type ProvisionedStack, provisionStack } from './stack.ts';

export interface AdminRequestOptions {
  /** The bearer token: @defaultValue the admin token; `null` sends no Authorization header */
  token?: string | null;
  /** Sent as JSON. */
  body?: unknown;
  /** Sent as it is (malformed JSON, a huge body); wins over `body`. */
  rawBody?: string | Uint8Array;
  query?: Record<string, string>;
  headers?: Record<string, string>;
}

export interface AdminResponse {
  status: number;
  // biome-ignore lint/suspicious/noExplicitAny: tests read whatever JSON came back
  body: any;
  headers: Headers;
}

export interface AdminApi {
  request(method: string, path: string, options?: AdminRequestOptions): Promise<AdminResponse>;
  tokens: { admin: string; viewer: string };
  ctx: OpsContext;
  stack: ProvisionedStack;
  app: Hono;
  /** Every route the app serves (the list and the OpenAPI document's), for tests generated from it. */
  routes: AdminRoute[];
  /** The JSON lines the app logged (audit lines among them), oldest first. */
  logLines: () => Record<string, unknown>[];
}

/**
 * The admin API in process, against this file's emulator (moto) with the stack provisioned from
 * its template: the admin function's environment, and its two tokens read from Secrets Manager
 * (generated into the emulator's secrets by the provisioning), as the Lambda reads them. Call at the top of a test file (it leases the
 * emulator); the returned function gives the API once `beforeAll` has run.
 *
 * @example
 * const api = useAdminApi();
 * it('lists', async () => expect((await api().request('GET', '/api/registry')).status).toBe(200));
 */
export function useAdminApi(): () => AdminApi {
  useEmulator();
  let api: AdminApi | undefined;
  beforeAll(async () => {
    const stack = await provisionStack();
    const fn = Object.values(stack.resources.functions).find((f) => f.entry === ADMIN_ENTRY);
    if (!fn) throw new Error(`the template has no ${ADMIN_ENTRY} function`);
    const secrets = {
      admin: String(fn.environment[AdminTokenEnv.admin]),
      viewer: String(fn.environment[AdminTokenEnv.viewer]),
    };
    // The tokens the provisioning generated into the emulator's secrets, read as an operator would.
    const read = async (id: string) =>
      (
        JSON.parse(
          (await controlClientsOf(stack.clients).secrets.send(new GetSecretValueCommand({ SecretId: id })))
            .SecretString ?? '',
        ) as { token: string }
      ).token;
    const tokens = { admin: await read(secrets.admin), viewer: await read(secrets.viewer) };
    const ctx: OpsContext = {
      config: functionConfig(fn.environment),
      clients: stack.clients,
      registry: defaultRegistry,
    };
    const tokenClients = createAwsClients();
    const lines: string[] = [];
    const app = createAdminApp({
      ctx,
      // Clients of their own: token reads are not counted among the requests a route makes.
      tokens: secretTokens({ client: () => controlClientsOf(tokenClients).secrets, secrets }),
      logger: createLogger({ component: 'admin-api' }, { level: 'debug', write: (line) => lines.push(line) }),
    }) as unknown as Hono;
    api = {
      app,
      ctx,
      stack,
      tokens,
      routes: servedRoutes(),
      logLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
      async request(method, path, options = {}) {
        const token = options.token === undefined ? tokens.admin : options.token;
        const query = options.query ? `?${new URLSearchParams(options.query)}` : '';
        const headers: Record<string, string> = { ...options.headers };
        if (token !== null) headers.authorization = `Bearer ${token}`;
        let body: string | Uint8Array | undefined = options.rawBody;
        // A GET or HEAD carries no body (fetch refuses one): given one, it is left off.
        if (method === 'GET' || method === 'HEAD') body = undefined;
        else if (body === undefined && options.body !== undefined) {
          body = JSON.stringify(options.body);
          headers['content-type'] ??= 'application/json';
        }
        const response = await app.request(`${path}${query}`, {
          method,
          headers,
          ...(body !== undefined ? { body } : {}),
        });
        const text = await response.text();
        let parsed: unknown = text;
        try {
          parsed = text ? JSON.parse(text) : undefined;
        } catch {
          // not JSON: the test sees the text
        }
        return { status: response.status, body: parsed, headers: response.headers };
      },
    };
  });
  return () => {
    if (!api) throw new Error('useAdminApi(): the API is made in beforeAll; call it inside a test');
    return api;
  };
}

/** A route's path with its `{param}`s filled in. */
export function pathOf(route: Pick<AdminRoute, 'path'>, values: Record<string, string> = {}): string {
  return route.path.replace(/\{([^}]+)\}/g, (_, name: string) =>
    encodeURIComponent(values[name] ?? `x-${name}`),
  );
}
