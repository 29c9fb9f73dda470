import { mkdtempSync, readFileSync, statSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import type { Context } from 'aws-lambda';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ADMIN_ENTRY,
  type AdminServer,
  AdminTokenVariable,
  startAdminServer,
  TOKENS_FILE,
} from '../../localstack/lambda/admin-server.ts';
import type { LocalFunction } from '../../localstack/provision/provision.ts';
import { AdminTokenEnv } from '../../shared/admin/auth.ts';
import { controlClientsOf } from '../../shared/aws/control-clients.ts';
import { configure } from '../../shared/config/index.ts';
import { useEmulator } from '../support/emulator.ts';
import { type ProvisionedStack, provisionStack } from '../support/stack.ts';

useEmulator();

type Result = { statusCode: number; headers?: Record<string, string>; body: string };
type Handler = (event: unknown, context: Context) => Promise<Result>;
let handler: Handler;
let stack: ProvisionedStack;
let fn: LocalFunction;
const servers: AdminServer[] = [];

beforeAll(async () => {
  stack = await provisionStack();
  const found = Object.values(stack.resources.functions).find((f) => f.entry === ADMIN_ENTRY);
  if (!found) throw new Error('no admin function');
  fn = found;
  // The function's environment exactly as the stack sets it, then the entry point as Lambda loads it.
  Object.assign(process.env, fn.environment, { LOG_LEVEL: 'silent' });
  configure({});
  ({ handler } = (await import('../../functions/admin.ts')) as unknown as { handler: Handler });
});

afterAll(async () => {
  for (const server of servers) await server.close();
});

async function secretToken(role: 'admin' | 'viewer'): Promise<string> {
  const { SecretString } = await controlClientsOf(stack.clients).secrets.send(
    new GetSecretValueCommand({ SecretId: fn.environment[AdminTokenEnv[role]] }),
  );
  return (JSON.parse(String(SecretString)) as { token: string }).token;
}

/** A Lambda function URL event (payload format 2.0). */
function urlEvent(method: string, path: string, headers: Record<string, string>, body?: string) {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: { host: 'abc.lambda-url.us-east-1.on.aws', ...headers },
    requestContext: {
      accountId: 'anonymous',
      apiId: 'abc',
      domainName: 'abc.lambda-url.us-east-1.on.aws',
      domainPrefix: 'abc',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '127.0.0.1', userAgent: 'test' },
      requestId: 'url-request',
      routeKey: '$default',
      stage: '$default',
      time: '01/Dec/2026:00:00:00 +0000',
      timeEpoch: 0,
    },
    ...(body !== undefined ? { body, isBase64Encoded: false } : { isBase64Encoded: false }),
  };
}

const context = { awsRequestId: 'admin-entry-test', functionName: 'admin' } as unknown as Context;

describe('functions/admin.ts behind a function URL', () => {
  it('serves the API from its environment alone, with the tokens the stack generated', async () => {
    const token = await secretToken('viewer');
    const ok = await handler(urlEvent('GET', '/api/registry', { authorization: `Bearer ${token}` }), context);
    expect(ok.statusCode).toBe(200);
    expect(JSON.parse(ok.body).items.length).toBeGreaterThan(0);
    const none = await handler(urlEvent('GET', '/api/registry', {}), context);
    expect(none.statusCode).toBe(401);
    const write = await handler(
      urlEvent(
        'POST',
        '/api/periodic-tasks',
        { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        '{}',
      ),
      context,
    );
    expect(write.statusCode).toBe(403);
  });
});

describe('the local cloud’s admin server', () => {
  const start = async (env: NodeJS.ProcessEnv, port?: number) => {
    const stateDir = mkdtempSync(join(tmpdir(), 'celerity-admin-'));
    const server = await startAdminServer({
      resources: stack.resources,
      clients: stack.clients,
      stateDir,
      env,
      ...(port !== undefined ? { port } : {}),
    });
    if (!server) throw new Error('no admin server');
    servers.push(server);
    return { server, stateDir };
  };

  it('generates tokens once into a 0600 file, writes them to the emulator’s secrets, and serves on 127.0.0.1', async () => {
    const { server, stateDir } = await start({}, 0);
    expect(server.origin).toBe('generated');
    expect(server.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const file = join(stateDir, TOKENS_FILE);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual(server.tokens);
    expect(await secretToken('admin')).toBe(server.tokens.admin);

    const response = await fetch(`${server.url}/api/periodic-tasks`, {
      headers: { authorization: `Bearer ${server.tokens.viewer}` },
    });
    expect(response.status).toBe(200);
    const tooBig = await fetch(`${server.url}/api/periodic-tasks`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.tokens.admin}`, 'content-type': 'application/json' },
      body: 'x'.repeat(70 * 1024),
    });
    expect(tooBig.status).toBe(413);
  });

  it('takes tokens from the environment, and a free port when the one asked for is taken', async () => {
    const blocker = createServer();
    const taken = await new Promise<number>((resolve) =>
      blocker.listen(0, '127.0.0.1', () => resolve((blocker.address() as { port: number }).port)),
    );
    try {
      const env = { [AdminTokenVariable.admin]: 'A'.repeat(32), [AdminTokenVariable.viewer]: 'V'.repeat(32) };
      const { server } = await start(env, taken);
      expect(server.origin).toBe('environment');
      expect(server.url).not.toBe(`http://127.0.0.1:${taken}`);
      const response = await fetch(`${server.url}/api/registry`, {
        headers: { authorization: `Bearer ${'V'.repeat(32)}` },
      });
      expect(response.status).toBe(200);
    } finally {
      blocker.close();
    }
  });
});
