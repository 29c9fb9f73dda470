import { describe, expect, it } from 'vitest';
import { WORKERS_ENV } from '../../shared/ops/workers.ts';
import { stackTemplate } from '../support/stack.ts';

type Resource = { Type: string; Properties?: { Environment?: { Variables?: Record<string, unknown> } } };

describe("the admin function's view of the workers", () => {
  it('is given each route worker as the stack built it: function, batch size, concurrency, timeout', () => {
    const resources = Object.values((stackTemplate() as { Resources: Record<string, Resource> }).Resources);
    const given = resources
      .map((r) => r.Properties?.Environment?.Variables?.[WORKERS_ENV])
      .filter((v) => v !== undefined);
    expect(given).toHaveLength(1);
    const text = JSON.stringify(given[0]);
    for (const route of ['default', 'heavy', 'notifications']) expect(text).toContain(`\\"${route}\\"`);
    // The heavy route's shape (infra/route-shape.ts): one message a batch, five at once.
    expect(text).toContain('\\"heavy\\":{\\"functionName\\":\\"');
    expect(text).toMatch(/batchSize\\":1,\\"maxConcurrency\\":5/);
  });
});
