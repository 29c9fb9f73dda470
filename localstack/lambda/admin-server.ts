import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import { PutSecretValueCommand } from '@aws-sdk/client-secrets-manager';
import { controlClientsOf } from '../../shared/aws/control-clients.ts';
import '../../functions/tasks/index.ts';
import { createAdminApp } from '../../shared/admin/app.ts';
import { AdminTokenEnv, MIN_TOKEN_LENGTH, secretTokens } from '../../shared/admin/auth.ts';
import type { Role } from '../../shared/admin/route.ts';
import type { AwsClients } from '../../shared/aws/clients.ts';
import { functionConfig } from '../../shared/config/config.ts';
import { workersFromEnv } from '../../shared/ops/workers.ts';
import { defaultRegistry } from '../../shared/task/registry.ts';
import type { LocalResources } from '../provision/provision.ts';

/** The admin API's entry in the template: the local cloud serves its app on localhost. */
export const ADMIN_ENTRY = 'functions/admin.ts';
/** Tried first; a free port if it is taken. */
export const ADMIN_PORT = 3000;
/** Where generated tokens are kept between runs (mode 0600), beside the state file. */
export const TOKENS_FILE = 'admin-tokens.json';
/** Tokens given here win over the stored ones. */
export const AdminTokenVariable = { admin: 'CELERITY_ADMIN_TOKEN', viewer: 'CELERITY_VIEWER_TOKEN' } as const;

export interface AdminServer {
  url: string;
  tokens: Record<Role, string>;
  /** Where each token came from: the environment, the tokens file, or generated now (and stored there). */
  origin: 'environment' | 'file' | 'generated';
  tokensFile: string;
  close(): Promise<void>;
}

export interface AdminServerOptions {
  resources: LocalResources;
  clients: AwsClients;
  /** `.celerity/`: the tokens file goes here. */
  stateDir: string;
  /** @defaultValue ADMIN_PORT, else a free one */
  port?: number;
  env?: NodeJS.ProcessEnv;
}

function localTokens(
  stateDir: string,
  env: NodeJS.ProcessEnv,
): Pick<AdminServer, 'tokens' | 'origin' | 'tokensFile'> {
  const tokensFile = join(stateDir, TOKENS_FILE);
  const fromEnv = { admin: env[AdminTokenVariable.admin], viewer: env[AdminTokenVariable.viewer] };
  if (fromEnv.admin && fromEnv.viewer) {
    for (const role of ['admin', 'viewer'] as const) {
      if ((fromEnv[role] ?? '').length < MIN_TOKEN_LENGTH)
        throw new Error(`${AdminTokenVariable[role]} must be at least ${MIN_TOKEN_LENGTH} characters`);
    }
    return { tokens: fromEnv as Record<Role, string>, origin: 'environment', tokensFile };
  }
  if (existsSync(tokensFile)) {
    const stored = JSON.parse(readFileSync(tokensFile, 'utf8')) as Record<Role, string>;
    if (typeof stored.admin === 'string' && typeof stored.viewer === 'string')
      return { tokens: stored, origin: 'file', tokensFile };
  }
  const tokens = {
    admin: randomBytes(32).toString('base64url'),
    viewer: randomBytes(32).toString('base64url'),
  };
  mkdirSync(stateDir, { recursive: true });
  writeFileSync(tokensFile, `${JSON.stringify(tokens, null, 2)}\n`, { mode: 0o600 });
  chmodSync(tokensFile, 0o600);
  return { tokens, origin: 'generated', tokensFile };
}

/** Node's request as a fetch `Request` (the body streamed, so the app's size limit applies). */
function toRequest(req: IncomingMessage, origin: string): Request {
  const headers = new Headers();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value !== undefined) headers.set(key, Array.isArray(value) ? value.join(', ') : value);
  }
  const hasBody = req.method !== 'GET' && req.method !== 'HEAD';
  return new Request(new URL(req.url ?? '/', origin), {
    method: req.method ?? 'GET',
    headers,
    ...(hasBody ? { body: Readable.toWeb(req) as ReadableStream, duplex: 'half' } : {}),
  } as RequestInit);
}

async function send(res: ServerResponse, response: Response): Promise<void> {
  res.writeHead(response.status, Object.fromEntries(response.headers));
  res.end(Buffer.from(await response.arrayBuffer()));
}

function listen(server: Server, port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const onError = (error: NodeJS.ErrnoException) => {
      server.off('listening', onListening);
      if (error.code === 'EADDRINUSE' && port !== 0) resolve(listen(server, 0));
      else reject(error);
    };
    const onListening = () => {
      server.off('error', onError);
      resolve((server.address() as { port: number }).port);
    };
    server.once('error', onError);
    server.once('listening', onListening);
    // Loopback only: the tokens guard the API, but nothing outside this machine should reach it.
    server.listen(port, '127.0.0.1');
  });
}

/**
 * The admin API of the template's admin function, on `http://127.0.0.1:3000` (or a free port).
 * Its tokens (from the environment, else `.celerity/admin-tokens.json`, else generated and stored
 * there) are written into the emulator's token secrets, which the app reads through Secrets
 * Manager exactly as on AWS. Undefined when the template has no admin function.
 */
export async function startAdminServer(options: AdminServerOptions): Promise<AdminServer | undefined> {
  const fn = Object.values(options.resources.functions).find((f) => f.entry === ADMIN_ENTRY);
  if (!fn) return undefined;
  const secrets = {
    admin: fn.environment[AdminTokenEnv.admin],
    viewer: fn.environment[AdminTokenEnv.viewer],
  };
  if (!secrets.admin || !secrets.viewer)
    throw new Error(`${ADMIN_ENTRY} has no token secrets in its environment`);
  const local = localTokens(options.stateDir, options.env ?? process.env);
  for (const role of ['admin', 'viewer'] as const) {
    await controlClientsOf(options.clients).secrets.send(
      new PutSecretValueCommand({
        SecretId: secrets[role],
        SecretString: JSON.stringify({ role, token: local.tokens[role] }),
      }),
    );
  }
  // The queues view's worker columns, from the template as the stack gives them to the function.
  const workers = workersFromEnv(fn.environment);
  const app = createAdminApp({
    ctx: {
      config: functionConfig(fn.environment),
      clients: options.clients,
      registry: defaultRegistry,
      ...(workers ? { workers } : {}),
    },
    tokens: secretTokens({
      client: () => controlClientsOf(options.clients).secrets,
      secrets: secrets as Record<Role, string>,
    }),
  });
  let origin = '';
  const server = createServer((req, res) => {
    Promise.resolve(app.fetch(toRequest(req, origin)))
      .then((response) => send(res, response))
      .catch((error: unknown) => {
        res.statusCode = 500;
        res.end(JSON.stringify({ error: { type: 'InternalError', message: (error as Error).message } }));
      });
  });
  const port = await listen(server, options.port ?? ADMIN_PORT);
  origin = `http://127.0.0.1:${port}`;
  return {
    ...local,
    url: origin,
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/** The lines `npm run dev` prints about the dashboard and the API: where, and the tokens (they are local and loopback-only). */
export function printAdminServer(server: AdminServer, log: (line: string) => void = console.log): void {
  const from =
    server.origin === 'environment'
      ? `from ${AdminTokenVariable.admin} / ${AdminTokenVariable.viewer}`
      : `${server.origin === 'generated' ? 'generated into' : 'from'} ${server.tokensFile}`;
  log(`  dashboard  ${server.url}/  (sign in with a token below)`);
  log(`  admin API  ${server.url}/api/openapi.json  (tokens ${from})`);
  log(`    admin    ${server.tokens.admin}`);
  log(`    viewer   ${server.tokens.viewer}`);
}
