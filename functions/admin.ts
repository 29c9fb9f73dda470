import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { type APIGatewayProxyResult, handle, type LambdaEvent } from 'hono/aws-lambda';
import { adminAppFromEnvironment } from '../shared/admin/environment.ts';
import { getAwsClients } from '../shared/aws/clients.ts';
import { injectLambdaContext } from '../shared/middleware/index.ts';
import { defaultRegistry } from '../shared/task/registry.ts';
import './tasks/index.ts';

// Built once per container, after the tasks above have registered themselves (apply, registry).
const app = adminAppFromEnvironment(process.env, {
  clients: getAwsClients(),
  registry: defaultRegistry,
  requestId: (c) => (c.env as { lambdaContext?: Context } | undefined)?.lambdaContext?.awsRequestId,
});
const serve = handle(app);

/**
 * The admin API behind a Lambda function URL (payload 2.0, the shape of an HTTP API event): the
 * Hono app of `shared/admin`, the same one the local cloud serves on Node. Every line it logs
 * names its invocation.
 */
export const handler = middy<LambdaEvent, APIGatewayProxyResult, Error, Context>()
  .use(injectLambdaContext())
  .handler((event, context) => serve(event, context));
