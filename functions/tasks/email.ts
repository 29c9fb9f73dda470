import { type SESClient, SendEmailCommand } from '@aws-sdk/client-ses';
import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { User } from './model.ts';

/**
 * The names SES gives "slow down": the SDK's `Throttling` (sending rate or daily quota),
 * SESv2's `ThrottlingException`, and `MaxSendingRateExceeded` as some proxies and older
 * SDKs report it. The SDK already retries these a few times; tasks list them in `autoretryFor`
 * so a longer backoff follows once those run out.
 */
export const SES_THROTTLING_ERRORS = ['Throttling', 'ThrottlingException', 'MaxSendingRateExceeded'] as const;

export interface Email {
  from: string;
  to: string;
  subject: string;
  text: string;
}

/** Sends one plain-text email; returns SES's message id. */
export async function sendEmail(ses: SESClient, email: Email): Promise<string> {
  const response = await ses.send(
    new SendEmailCommand({
      Source: email.from,
      Destination: { ToAddresses: [email.to] },
      Message: {
        Subject: { Data: email.subject, Charset: 'UTF-8' },
        Body: { Text: { Data: email.text, Charset: 'UTF-8' } },
      },
    }),
  );
  return response.MessageId ?? '';
}

/** A user by id, read consistently: a user created just before the task was sent is found. */
export async function getUser(
  dynamo: DynamoDBDocumentClient,
  table: string,
  userId: string,
): Promise<User | undefined> {
  const { Item } = await dynamo.send(
    new GetCommand({ TableName: table, Key: { userId }, ConsistentRead: true }),
  );
  return Item as User | undefined;
}
