import { createHash, timingSafeEqual } from 'node:crypto';
import { GetSecretValueCommand, type SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { TokensUnavailableError } from './errors.ts';
import type { Role } from './route.ts';

/** A token and who holds it: the role it grants, and the name the audit log gives its holder. */
export interface NamedToken {
  role: Role;
  name: string;
  token: string;
}

/** Where the API's tokens come from: Secrets Manager on AWS and in the local cloud, a list in unit tests. */
export interface TokenSource {
  tokens(): Promise<readonly NamedToken[]>;
}

/** The environment variables naming each role's secret (ARNs; the stack sets them). */
export const AdminTokenEnv = {
  admin: 'CELERITY_ADMIN_TOKEN_SECRET',
  viewer: 'CELERITY_VIEWER_TOKEN_SECRET',
} as const;

/** How long a function keeps the tokens it read: a rotated token is refused within this. */
export const TOKEN_CACHE_MS = 5 * 60_000;

/** Shorter than this, a token is refused when read: a guessable token is worse than none. */
export const MIN_TOKEN_LENGTH = 16;

/** Fixed tokens, for tests and embedders that hold their own. */
export function staticTokens(tokens: readonly NamedToken[]): TokenSource {
  return { tokens: async () => tokens };
}

export interface SecretTokensOptions {
  client: () => SecretsManagerClient;
  /** Each role's secret (ARN or name). A secret's value is JSON `{ "token": "..." }` (the stack generates it). */
  secrets: Readonly<Record<Role, string>>;
  /** @defaultValue TOKEN_CACHE_MS */
  cacheMs?: number;
  /** @defaultValue the wall clock */
  now?: () => number;
}

/**
 * The tokens in Secrets Manager, read once per `cacheMs` and kept in memory: two GetSecretValue
 * calls per container per five minutes, however many requests. A failed read is not cached, so
 * the next request tries again.
 */
export function secretTokens(options: SecretTokensOptions): TokenSource {
  const cacheMs = options.cacheMs ?? TOKEN_CACHE_MS;
  const now = options.now ?? Date.now;
  let cached: { at: number; tokens: Promise<readonly NamedToken[]> } | undefined;
  const read = async (): Promise<readonly NamedToken[]> =>
    Promise.all(
      (Object.entries(options.secrets) as [Role, string][]).map(async ([role, secretId]) => ({
        role,
        name: role,
        token: tokenOf(
          role,
          (await options.client().send(new GetSecretValueCommand({ SecretId: secretId }))).SecretString,
        ),
      })),
    );
  return {
    tokens() {
      if (cached && now() - cached.at < cacheMs) return cached.tokens;
      const tokens = read().catch((error: unknown) => {
        cached = undefined;
        throw error instanceof TokensUnavailableError
          ? error
          : new TokensUnavailableError(
              `could not read the API tokens from Secrets Manager: ${(error as Error).message}`,
              {
                cause: error,
              },
            );
      });
      cached = { at: now(), tokens };
      return tokens;
    },
  };
}

function tokenOf(role: Role, secret: string | undefined): string {
  let token: unknown;
  try {
    token = (JSON.parse(secret ?? '') as { token?: unknown }).token;
  } catch {
    // named below, without the secret's text
  }
  if (typeof token !== 'string' || token.length < MIN_TOKEN_LENGTH) {
    throw new TokensUnavailableError(
      `the ${role} token secret must be JSON {"token": "<at least ${MIN_TOKEN_LENGTH} characters>"}`,
    );
  }
  return token;
}

const digest = (text: string) => createHash('sha256').update(text, 'utf8').digest();

/**
 * The holder of `presented`, or undefined. Digests make every comparison the same length, and
 * every token is compared (no early return), so the time taken says nothing about any token.
 */
export function holderOf(tokens: readonly NamedToken[], presented: string): NamedToken | undefined {
  const given = digest(presented);
  let found: NamedToken | undefined;
  for (const candidate of tokens) {
    if (timingSafeEqual(given, digest(candidate.token)) && !found) found = candidate;
  }
  return found;
}

/** The token of an `Authorization` header value, if it is a bearer one. */
export function bearerToken(header: string | undefined): string | undefined {
  const match = /^Bearer[ \t]+([^ \t].*?)[ \t]*$/i.exec(header ?? '');
  return match?.[1];
}
