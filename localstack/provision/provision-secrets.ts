import { randomInt } from 'node:crypto';
import {
  CreateSecretCommand,
  DescribeSecretCommand,
  ResourceExistsException,
} from '@aws-sdk/client-secrets-manager';
import { controlClientsOf } from '../../shared/aws/control-clients.ts';
import type { AwsClients } from '../../shared/aws/index.ts';
import { physicalName } from './template.ts';

export interface LocalSecret {
  logicalId: string;
  name: string;
  arn: string;
}

interface GenerateSecretString {
  SecretStringTemplate?: string;
  GenerateStringKey?: string;
  PasswordLength?: number;
  ExcludePunctuation?: boolean;
}

const LETTERS_DIGITS = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const PUNCTUATION = '!"#$%&\'()*+,-./:;<=>?@[\\]^_`{|}~';

/** What CloudFormation's `GenerateSecretString` makes (the subset the stack uses), from the OS's CSPRNG. */
function generated(spec: GenerateSecretString): string {
  const alphabet = LETTERS_DIGITS + (spec.ExcludePunctuation ? '' : PUNCTUATION);
  const length = Number(spec.PasswordLength ?? 32);
  const value = Array.from({ length }, () => alphabet[randomInt(alphabet.length)]).join('');
  if (!spec.GenerateStringKey) return value;
  const base = spec.SecretStringTemplate ? (JSON.parse(spec.SecretStringTemplate) as object) : {};
  return JSON.stringify({ ...base, [spec.GenerateStringKey]: value });
}

/**
 * A template's `AWS::SecretsManager::Secret` in the emulator, its value generated as CloudFormation
 * would. A secret that exists already keeps its value (a restart does not change tokens); its ARN
 * (Secrets Manager's `Ref`) is returned either way.
 */
export async function createSecret(
  clients: AwsClients,
  id: string,
  p: Record<string, unknown>,
  stackName: string,
): Promise<LocalSecret> {
  const name =
    typeof p.Name === 'string' ? p.Name : physicalName(stackName, id, 'AWS::SecretsManager::Secret');
  const spec = p.GenerateSecretString as GenerateSecretString | undefined;
  const value = typeof p.SecretString === 'string' ? p.SecretString : generated(spec ?? {});
  try {
    const { ARN } = await controlClientsOf(clients).secrets.send(
      new CreateSecretCommand({
        Name: name,
        SecretString: value,
        ...(typeof p.Description === 'string' ? { Description: p.Description } : {}),
      }),
    );
    return { logicalId: id, name, arn: String(ARN) };
  } catch (error) {
    if (!(error instanceof ResourceExistsException)) throw error;
    const { ARN } = await controlClientsOf(clients).secrets.send(
      new DescribeSecretCommand({ SecretId: name }),
    );
    return { logicalId: id, name, arn: String(ARN) };
  }
}
