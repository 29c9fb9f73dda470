import middy from '@middy/core';
import type { Context } from 'aws-lambda';
import { afterEach, describe, expect, it } from 'vitest';
import { setLogWriter } from '../../shared/log.ts';
import { InvocationMetrics, logMetrics } from '../../shared/middleware/index.ts';
import { type EmfDocument, metricDocuments } from '../../shared/worker/index.ts';

const document = (task: string): EmfDocument =>
  metricDocuments([{ queue: 'default', task, state: 'SUCCESS', runtimeMs: 1 }], 0)[0] as EmfDocument;

const context = { awsRequestId: 'req-1' } as unknown as Context;

/** A handler that writes `tasks`' documents to the runtime's sink, then returns or throws. */
function wrapped(metrics: InvocationMetrics) {
  return middy<{ tasks: string[]; fail?: boolean }, string, Error, Context>()
    .use(logMetrics(metrics))
    .handler(async (event) => {
      for (const task of event.tasks) metrics.sink(document(task));
      if (event.fail) throw new Error('the handler fell over');
      return 'done';
    });
}

describe('logMetrics with InvocationMetrics', () => {
  afterEach(() => setLogWriter(undefined));

  it('writes the invocation’s documents once, when it returns, and nothing before', async () => {
    const written: EmfDocument[] = [];
    const metrics = new InvocationMetrics((d) => written.push(d));
    metrics.sink(document('before.any.invocation'));
    expect(written).toEqual([]);
    await wrapped(metrics)({ tasks: ['a.one', 'a.two'] }, context);
    expect(written.map((d) => d.Task)).toEqual(['before.any.invocation', 'a.one', 'a.two']);
    await wrapped(metrics)({ tasks: [] }, context);
    expect(written).toHaveLength(3);
  });

  it('writes them once when the invocation throws, and lets the error through', async () => {
    const written: EmfDocument[] = [];
    const metrics = new InvocationMetrics((d) => written.push(d));
    await expect(wrapped(metrics)({ tasks: ['a.counted'], fail: true }, context)).rejects.toThrow(
      'the handler fell over',
    );
    expect(written.map((d) => d.Task)).toEqual(['a.counted']);
    await wrapped(metrics)({ tasks: ['a.next'] }, context);
    expect(written.map((d) => d.Task)).toEqual(['a.counted', 'a.next']);
  });

  it('never fails an invocation for a metric it cannot write: a warning, and the next document still goes', async () => {
    const lines: string[] = [];
    setLogWriter((line) => lines.push(line));
    const written: unknown[] = [];
    const metrics = new InvocationMetrics((d) => {
      if (d.Task === 'a.broken') throw new Error('stdout is gone');
      written.push(d.Task);
    });
    await expect(wrapped(metrics)({ tasks: ['a.broken', 'a.fine'] }, context)).resolves.toBe('done');
    expect(written).toEqual(['a.fine']);
    expect(JSON.parse(lines[0] as string)).toMatchObject({
      level: 'warn',
      message: 'could not write metrics',
      error: 'stdout is gone',
    });
  });
});
