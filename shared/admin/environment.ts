import type { AwsClients } from '../aws/clients.ts';
import { controlClientsOf } from '../aws/control-clients.ts';
import { functionConfig } from '../config/config.ts';
import { ValidationError } from '../errors.ts';
import { createLogger, type Logger } from '../log.ts';
import type { OpsContext } from '../ops/context.ts';
import { cloudWatchOldestAge } from '../ops/oldest-age.ts';
import { workersFromEnv } from '../ops/workers.ts';
import type { TaskRegistry } from '../task/registry.ts';
import { type AdminAppOptions, createAdminApp } from './app.ts';
import { AdminTokenEnv, secretTokens } from './auth.ts';

export interface AdminWiring {
  clients: AwsClients;
  registry: TaskRegistry;
  logger?: Logger;
  requestId?: AdminAppOptions['requestId'];
}

/**
 * The admin app as the stack (or the local cloud, from the same template) configures a function:
 * resources from the CELERITY_* environment, tokens from the two secrets it names.
 */
export function adminAppFromEnvironment(
  environment: Readonly<Record<string, string | undefined>>,
  wiring: AdminWiring,
): ReturnType<typeof createAdminApp> {
  const admin = environment[AdminTokenEnv.admin];
  const viewer = environment[AdminTokenEnv.viewer];
  if (!admin || !viewer) {
    throw ValidationError.of(
      admin ? AdminTokenEnv.viewer : AdminTokenEnv.admin,
      'is not set: the admin API reads its tokens from the secrets these name',
    );
  }
  const config = functionConfig(environment);
  const logger = wiring.logger ?? createLogger({ component: 'admin-api' });
  return createAdminApp({
    ctx: {
      config,
      clients: wiring.clients,
      registry: wiring.registry,
      ...withWorkers(environment),
      // Flower's "oldest message" from CloudWatch (SQS has no such attribute); a failed read
      // shows as null in the view and as one warning here, naming the missing grant if that is it.
      oldestAgeSeconds: cloudWatchOldestAge(
        () => controlClientsOf(wiring.clients).cloudwatch,
        Object.values(config.queues).map((q) => q.url),
        { onError: (error) => logger.warn('oldest message age unavailable', { error: error.message }) },
      ),
    },
    tokens: secretTokens({
      client: () => controlClientsOf(wiring.clients).secrets,
      secrets: { admin, viewer },
    }),
    ...(wiring.logger ? { logger: wiring.logger } : {}),
    ...(wiring.requestId ? { requestId: wiring.requestId } : {}),
  });
}

/** The route workers' figures the stack passes (`CELERITY_ROUTE_WORKERS`), for the queues view. */
function withWorkers(environment: Readonly<Record<string, string | undefined>>): Pick<OpsContext, 'workers'> {
  const workers = workersFromEnv(environment);
  return workers ? { workers } : {};
}
