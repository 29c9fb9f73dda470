import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          // Each vitest worker has its own moto (global-setup), so files run three at a time; a
          // single emulator given from outside (LocalStack) is shared, and suites take turns on it.
          fileParallelism: !process.env.AWS_ENDPOINT_URL,
          // After the unit project (vitest needs distinct groups for projects with different workers).
          sequence: { groupOrder: 1 },
          maxWorkers: process.env.AWS_ENDPOINT_URL ? 1 : Number(process.env.CELERITY_TEST_EMULATORS ?? 3),
          testTimeout: 180_000,
          hookTimeout: 120_000,
        },
      },
      {
        test: {
          // The whole system as a user runs it, with on-time checks: alone, after the rest, so that
          // no other suite's load shifts a run's start.
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          fileParallelism: false,
          maxWorkers: 1,
          sequence: { groupOrder: 2 },
          testTimeout: 420_000,
          hookTimeout: 150_000,
        },
      },
      {
        test: {
          // The dashboard in headless Chromium against the local cloud (playwright-core).
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          environment: 'node',
          globalSetup: ['test/support/global-setup.ts'],
          fileParallelism: false,
          maxWorkers: 1,
          sequence: { groupOrder: 3 },
          testTimeout: 180_000,
          hookTimeout: 150_000,
        },
      },
    ],
  },
});
