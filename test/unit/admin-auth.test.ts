import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { describe, expect, it, vi } from 'vitest';
import { createAdminApp } from '../../shared/admin/app.ts';
import {
  bearerToken,
  holderOf,
  secretTokens,
  staticTokens,
  TOKEN_CACHE_MS,
} from '../../shared/admin/auth.ts';
import { TokensUnavailableError } from '../../shared/admin/errors.ts';
import { defineRoute } from '../../shared/admin/route.ts';
import { setLogWriter } from '../../shared/log.ts';
import type { OpsContext } from '../../shared/ops/context.ts';

const ADMIN = 'a'.repeat(40);
const VIEWER = 'v'.repeat(40);
const tokens = [
  { role: 'admin' as const, name: 'admin', token: ADMIN },
  { role: 'viewer' as const, name: 'viewer', token: VIEWER },
];

/** A Secrets Manager client whose GetSecretValue answers from `values` (or throws), counting calls. */
function fakeSecrets(values: Record<string, string | Error>) {
  const client = new SecretsManagerClient({ region: 'us-east-1' });
  const send = vi.fn(async (command: { input: { SecretId: string } }) => {
    const value = values[command.input.SecretId];
    if (value instanceof Error) throw value;
    return { SecretString: value };
  });
  Object.assign(client, { send });
  return { client, send };
}

describe('tokens', () => {
  it('finds the holder of a token, and no one for a prefix, an extension or another case', () => {
    expect(holderOf(tokens, ADMIN)?.role).toBe('admin');
    expect(holderOf(tokens, VIEWER)?.role).toBe('viewer');
    for (const wrong of [ADMIN.slice(1), `${ADMIN}a`, ADMIN.toUpperCase(), '', VIEWER.slice(0, 20)]) {
      expect(holderOf(tokens, wrong)).toBeUndefined();
    }
  });

  it('reads only bearer credentials from the Authorization header', () => {
    expect(bearerToken(`Bearer ${ADMIN}`)).toBe(ADMIN);
    expect(bearerToken(`bearer  ${ADMIN} `)).toBe(ADMIN);
    expect(bearerToken(`Basic ${ADMIN}`)).toBeUndefined();
    expect(bearerToken('Bearer ')).toBeUndefined();
    expect(bearerToken(undefined)).toBeUndefined();
  });

  it(`reads the secrets once per ${TOKEN_CACHE_MS / 60_000} minutes, and again after`, async () => {
    const { client, send } = fakeSecrets({
      a: JSON.stringify({ role: 'admin', token: ADMIN }),
      v: JSON.stringify({ role: 'viewer', token: VIEWER }),
    });
    let now = 0;
    const source = secretTokens({
      client: () => client,
      secrets: { admin: 'a', viewer: 'v' },
      now: () => now,
    });
    expect((await source.tokens()).map((t) => t.token)).toEqual([ADMIN, VIEWER]);
    now = TOKEN_CACHE_MS - 1;
    await source.tokens();
    expect(send).toHaveBeenCalledTimes(2);
    now = TOKEN_CACHE_MS;
    await source.tokens();
    expect(send).toHaveBeenCalledTimes(4);
  });

  it('refuses a malformed or short secret without echoing it, and does not cache a failure', async () => {
    const { client, send } = fakeSecrets({ a: '{"token": "short"}', v: 'not json' });
    const source = secretTokens({ client: () => client, secrets: { admin: 'a', viewer: 'v' } });
    await expect(source.tokens()).rejects.toThrow(TokensUnavailableError);
    await expect(source.tokens()).rejects.not.toThrow(/short/);
    expect(send.mock.calls.length).toBe(4);
  });

  it('answers 503 (not 401, not 500) when the secrets cannot be read', async () => {
    const { client } = fakeSecrets({ a: new Error('AccessDenied'), v: new Error('AccessDenied') });
    const app = createAdminApp({
      ctx: {} as OpsContext,
      tokens: secretTokens({ client: () => client, secrets: { admin: 'a', viewer: 'v' } }),
      routes: [],
      logger: { debug() {}, info() {}, warn() {}, error() {} },
    });
    const response = await app.request('/api/openapi.json', {
      headers: { authorization: `Bearer ${ADMIN}` },
    });
    expect(response.status).toBe(503);
  });

  it('maps an unexpected error to a 500 naming only the request id, and logs it', async () => {
    const errors: Record<string, unknown>[] = [];
    const app = createAdminApp({
      ctx: {} as OpsContext,
      tokens: staticTokens(tokens),
      routes: [
        defineRoute({
          method: 'GET',
          path: '/api/boom',
          role: 'viewer',
          summary: 'fails',
          handle: async () => {
            throw new Error('secret detail');
          },
        }),
      ],
      logger: { debug() {}, info() {}, warn() {}, error: (_m, fields) => errors.push(fields ?? {}) },
    });
    const response = await app.request('/api/boom', { headers: { authorization: `Bearer ${VIEWER}` } });
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { requestId: string; message: string } };
    expect(body.error.requestId).toMatch(/[0-9a-f-]{36}/);
    expect(body.error.message).not.toContain('secret detail');
    expect(errors[0]).toMatchObject({ requestId: body.error.requestId, error: 'secret detail' });
  });

  it('writes the audit line of a refused write even at LOG_LEVEL=warn, without the token', async () => {
    const lines: string[] = [];
    const level = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = 'warn';
    setLogWriter((line) => lines.push(line));
    try {
      const app = createAdminApp({ ctx: {} as OpsContext, tokens: staticTokens(tokens), routes: [] });
      const response = await app.request('/api/periodic-tasks/x', {
        method: 'DELETE',
        headers: { authorization: `Bearer ${VIEWER}x` },
      });
      expect(response.status).toBe(401);
    } finally {
      setLogWriter(undefined);
      process.env.LOG_LEVEL = level;
    }
    const audit = lines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l.audit === true);
    expect(audit).toEqual([
      expect.objectContaining({
        who: { role: 'anonymous' },
        method: 'DELETE',
        path: '/api/periodic-tasks/x',
        status: 401,
      }),
    ]);
    expect(lines.join('\n')).not.toContain(VIEWER);
  });
});
