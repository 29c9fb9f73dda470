import * as z from '../schema.ts';
import { TOKEN_CACHE_MS } from './auth.ts';
import { type AdminRoute, defineRoute, type ZodType } from './route.ts';

const BODY_LIMIT_TEXT = '64 KiB';

type JsonSchema = Record<string, unknown>;

function jsonSchema(schema: ZodType): JsonSchema {
  // Input side: what a client sends. Transforms (a query string read as a number) show their input.
  const { $schema: _drop, ...rest } = z.toJSONSchema(schema, {
    io: 'input',
    unrepresentable: 'any',
  }) as JsonSchema;
  return rest;
}

function parameters(where: 'path' | 'query', schema: ZodType | undefined): JsonSchema[] {
  if (!schema) return [];
  const { properties = {}, required = [] } = jsonSchema(schema) as {
    properties?: Record<string, JsonSchema>;
    required?: string[];
  };
  return Object.entries(properties).map(([name, property]) => ({
    name,
    in: where,
    required: where === 'path' || required.includes(name),
    schema: property,
    ...(typeof property.description === 'string' ? { description: property.description } : {}),
  }));
}

const errorSchema = {
  type: 'object',
  required: ['error'],
  properties: {
    error: {
      type: 'object',
      required: ['type', 'message'],
      properties: {
        type: { type: 'string' },
        message: { type: 'string' },
        field: { type: 'string', description: 'The dotted path of the bad input (ValidationError)' },
        requestId: { type: 'string' },
      },
    },
  },
};

const errorResponse = (description: string) => ({
  description,
  content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } },
});

/** The OpenAPI 3.1 document of the given routes, from the schemas that validate their requests. */
export function openApiDocument(routes: readonly AdminRoute[]): JsonSchema {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    const write = route.role === 'admin';
    paths[route.path] ??= {};
    (paths[route.path] as Record<string, unknown>)[route.method.toLowerCase()] = {
      summary: route.summary,
      description: `Role: ${route.role}.`,
      parameters: [...parameters('path', route.params), ...parameters('query', route.query)],
      ...(route.body
        ? {
            requestBody: {
              required: true,
              description: `JSON, at most ${BODY_LIMIT_TEXT}.`,
              content: { 'application/json': { schema: jsonSchema(route.body) } },
            },
          }
        : {}),
      responses: {
        '200': {
          description: 'Success (201 for a creation, 202 for a task sent)',
          content: { 'application/json': { schema: route.response ? jsonSchema(route.response) : {} } },
        },
        '400': errorResponse('Bad input: `error.field` names what is wrong'),
        '401': errorResponse('No bearer token, or not one of this API'),
        ...(write ? { '403': errorResponse('The viewer token on a route that writes') } : {}),
        '404': errorResponse('Unknown route or id'),
        ...(route.body ? { '413': errorResponse(`Body over ${BODY_LIMIT_TEXT}`) } : {}),
      },
    };
  }
  return {
    openapi: '3.1.0',
    info: {
      title: 'Celerity admin API',
      version: '1',
      description: [
        'Periodic tasks, tasks, queues and the registry of a Celerity app.',
        'Every route needs `Authorization: Bearer <token>`: the viewer token reads, the admin token also writes.',
        `Request bodies over ${BODY_LIMIT_TEXT} are refused with 413.`,
        `Tokens are re-read from Secrets Manager at most every ${TOKEN_CACHE_MS / 60_000} minutes.`,
      ].join(' '),
    },
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: errorSchema },
    },
    security: [{ bearer: [] }],
    paths,
  };
}

/** `GET /api/openapi.json`: viewer, like every read. Built once, on first request. */
export function openApiRoute(routes: readonly AdminRoute[]): AdminRoute {
  let document: JsonSchema | undefined;
  const route = defineRoute({
    method: 'GET',
    path: '/api/openapi.json',
    role: 'viewer',
    summary: 'This document',
    handle: async () => {
      document ??= openApiDocument([...routes, route]);
      return { body: document };
    },
  });
  return route;
}
