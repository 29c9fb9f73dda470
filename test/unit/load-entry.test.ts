import { describe, expect, it } from 'vitest';
import { EntryLoadError } from '../../localstack/errors.ts';
import { loadEntry } from '../../localstack/lambda/load-entry.ts';
import type { LocalFunction } from '../../localstack/provision/provision.ts';

function fn(overrides: Partial<LocalFunction>): LocalFunction {
  return {
    logicalId: 'WorkerFn',
    name: 'celerity-worker',
    arn: 'arn:aws:lambda:us-east-1:123456789012:function:celerity-worker',
    timeoutSeconds: 3,
    memoryMb: 128,
    environment: { CELERITY_PROBE: 'from-the-function' },
    ...overrides,
  };
}

describe('loadEntry: a function entry loaded as Lambda loads it', () => {
  it('names the function when the template gives no entry to load', async () => {
    const error = await loadEntry(fn({}), {}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(EntryLoadError);
    expect(error).toMatchObject({ name: 'EntryLoadError', function: 'WorkerFn' });
    expect((error as Error).message).toContain('no celerity:entry');
  });

  it('names the function and the handler an entry does not export', async () => {
    const error = await loadEntry(fn({ entry: 'shared/errors.ts', handler: 'handler' }), {}).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(EntryLoadError);
    expect((error as Error).message).toBe(
      'function WorkerFn: shared/errors.ts exports no function named handler',
    );
  });

  it('sets the function’s environment only while it imports, and puts the process’s back', async () => {
    delete process.env.CELERITY_PROBE;
    await loadEntry(fn({ entry: 'shared/errors.ts' }), { CELERITY_PROBE: 'from-the-function' }).catch(
      () => undefined,
    );
    expect(process.env.CELERITY_PROBE).toBeUndefined();
  });
});
