import { CloudWatchClient } from '@aws-sdk/client-cloudwatch';
import { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import type { AwsClients } from './clients.ts';

/**
 * The clients only the admin API and the CLI use: Secrets Manager (the admin tokens) and
 * CloudWatch (the age of each queue's oldest message). A module of their own, so a worker's
 * bundle, which never imports it, carries neither SDK package.
 */
export interface ControlClients {
  readonly secrets: SecretsManagerClient;
  readonly cloudwatch: CloudWatchClient;
}

const made = new WeakMap<AwsClients, ControlClients>();

/** The control clients beside `clients`: the same settings and request counter, each built on first use, once. */
export function controlClientsOf(clients: AwsClients): ControlClients {
  let control = made.get(clients);
  if (!control) {
    let secrets: SecretsManagerClient | undefined;
    let cloudwatch: CloudWatchClient | undefined;
    control = {
      get secrets() {
        secrets ??= clients.requests.attach(new SecretsManagerClient(clients.settings));
        return secrets;
      },
      get cloudwatch() {
        cloudwatch ??= clients.requests.attach(new CloudWatchClient(clients.settings));
        return cloudwatch;
      },
    };
    made.set(clients, control);
  }
  return control;
}
