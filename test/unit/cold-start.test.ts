import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { SESClient } from '@aws-sdk/client-ses';
import { SQSClient } from '@aws-sdk/client-sqs';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createWorkerRuntime } from '../../shared/app-worker.ts';
import { createAwsClients } from '../../shared/aws/clients.ts';
import { RequestCounter } from '../../shared/aws/request-counter.ts';
import { resolveConfig } from '../../shared/config/index.ts';

/** Every SDK client the factory builds passes through `RequestCounter.attach` once. */
function builtClients() {
  return vi.spyOn(RequestCounter.prototype, 'attach');
}

const builtOf = (spy: ReturnType<typeof builtClients>, type: abstract new (...args: never[]) => unknown) =>
  spy.mock.calls.filter(([client]) => client instanceof type).length;

describe('a worker that starts fast (issue #10): clients built on first use', () => {
  afterEach(() => vi.restoreAllMocks());

  it('builds no client when the factory is called, each on its first use, and each once', () => {
    const built = builtClients();
    const clients = createAwsClients({ region: 'eu-west-1' });
    expect(built).not.toHaveBeenCalled();
    const sqs = clients.sqs;
    expect(sqs).toBeInstanceOf(SQSClient);
    expect(clients.sqs).toBe(sqs);
    expect(built).toHaveBeenCalledTimes(1);
    expect(clients.scheduler).toBe(clients.scheduler);
    expect(builtOf(built, SchedulerClient)).toBe(1);
  });

  it('never builds SES or the Scheduler for a worker, even one with Beat and far ETAs configured', () => {
    const built = builtClients();
    const config = resolveConfig(
      {
        queues: { default: { url: 'http://127.0.0.1:1/q', arn: 'arn:aws:sqs:us-east-1:1:q' } },
        resultsTable: 'results',
        rateLimitTable: 'rates',
        scheduler: { groupName: 'delays', roleArn: 'arn:aws:iam::1:role/r' },
        beat: { table: 'periodic', groupName: 'periodic' },
      },
      {},
    );
    createWorkerRuntime({ config, clients: createAwsClients({ region: 'eu-west-1' }) });
    expect(builtOf(built, SESClient)).toBe(0);
    expect(builtOf(built, SchedulerClient)).toBe(0);
  });
});
