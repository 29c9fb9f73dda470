import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { type AdminServer, startAdminServer } from '../../localstack/lambda/admin-server.ts';
import { useEmulator } from '../support/emulator.ts';
import { provisionStack } from '../support/stack.ts';

useEmulator();

let server: AdminServer | undefined;

afterAll(async () => {
  await server?.close();
});

describe("the local cloud's queues view", () => {
  it('shows each route worker as the synthesized template built it, over HTTP', async () => {
    const stack = await provisionStack();
    server = await startAdminServer({
      resources: stack.resources,
      clients: stack.clients,
      stateDir: mkdtempSync(join(tmpdir(), 'celerity-admin-queues-')),
      env: {},
      port: 0,
    });
    if (!server) throw new Error('no admin server');
    const response = await fetch(`${server.url}/api/queues`, {
      headers: { authorization: `Bearer ${server.tokens.viewer}` },
    });
    expect(response.status).toBe(200);
    const { items } = (await response.json()) as {
      items: { queue: string; worker?: Record<string, unknown> }[];
    };
    const heavy = items.find((q) => q.queue === 'heavy');
    expect(heavy?.worker).toMatchObject({ batchSize: 1, maxConcurrency: 5, concurrency: 1 });
    expect(heavy?.worker?.functionName).toEqual(expect.any(String));
    expect(heavy?.worker?.timeoutSeconds).toBeGreaterThan(0);
    expect(items.find((q) => q.queue === 'default')?.worker).toMatchObject({ batchSize: 100 });
  });
});
