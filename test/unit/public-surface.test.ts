import { readdirSync, readFileSync } from 'node:fs';
import * as celerity from 'celerity';
import type { PeriodicTaskStore } from 'celerity/beat';
import * as beat from 'celerity/beat';
import type { CelerityStack } from 'celerity/infra';
import * as worker from 'celerity/worker';
import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

describe('the public surface (package.json exports)', () => {
  it("gives an app, from 'celerity', everything README and docs teach for tasks, results and config", () => {
    for (const name of [
      'defineTask',
      'sendMany',
      'Task',
      'AsyncResult',
      'asyncResult',
      'revoke',
      'getResultStore',
      'configure',
      'getConfig',
      'TaskState',
      'TaskRegistry',
      'CelerityError',
      'ValidationError',
      'TaskFailed',
      'ResultTimeout',
      'EnqueueError',
      'Retry',
      'Reject',
      'MaxRetriesExceeded',
      'SoftTimeLimitExceeded',
      'TimeLimitExceeded',
    ]) {
      expect(celerity, name).toHaveProperty(name);
    }
    expect(beat).toHaveProperty('createPeriodicTaskStore');
    expect(beat).toHaveProperty('PeriodicTaskStore');
    expect(beat).toHaveProperty('PeriodicTaskNotFound');
    expect(worker).toHaveProperty('createWorkerRuntime');
  });

  it('exports every name README.md and docs/ import, from the entry they import it from', async () => {
    const docs = [
      'README.md',
      ...readdirSync('docs')
        .filter((f) => f.endsWith('.md'))
        .map((f) => `docs/${f}`),
    ];
    const taught: [string, string][] = [];
    for (const file of docs) {
      for (const [, names, entry] of readFileSync(file, 'utf8').matchAll(
        /import \{([^}]+)\} from '(celerity[^']*)'/g,
      )) {
        for (const name of (names as string).split(',').map((n) => n.trim().replace(/^type /, ''))) {
          if (name) taught.push([entry as string, name]);
        }
      }
    }
    expect(taught.map(([entry]) => entry)).toEqual(expect.arrayContaining(['celerity', 'celerity/beat']));
    for (const [entry, name] of taught) {
      const module = (await import(/* @vite-ignore */ entry)) as Record<string, unknown>;
      expect(module, `${name} from '${entry}'`).toHaveProperty(name);
    }
  }, 60_000);

  it("keeps 'celerity' to the sending side: no Beat, no astronomy-engine, no CDK in its bundle", async () => {
    const result = await build({
      entryPoints: ['shared/index.ts'],
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      format: 'esm',
      logLevel: 'silent',
      external: ['@aws-sdk/*'],
    });
    const inputs = Object.keys(result.metafile?.inputs ?? {});
    expect(inputs).toContain('shared/task/define.ts');
    expect(
      inputs.filter((file) => /^shared\/beat\/|astronomy-engine|aws-cdk-lib|^infra\//.test(file)),
    ).toEqual([]);
  });

  it('names every entry in package.json, each a file that exists', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8')) as { exports: Record<string, string> };
    expect(Object.keys(pkg.exports)).toEqual(
      expect.arrayContaining(['.', './beat', './worker', './ops', './envelope', './infra']),
    );
    for (const file of Object.values(pkg.exports)) expect(() => readFileSync(file)).not.toThrow();
  });

  it("registers a task in the registry named by defineTask's options, not the default one", () => {
    const registry = new celerity.TaskRegistry();
    const task = celerity.defineTask('apps.surface.tasks.own', () => 1, { registry, queue: 'own' });
    expect(registry.has('apps.surface.tasks.own')).toBe(true);
    expect(celerity.defaultRegistry.has('apps.surface.tasks.own')).toBe(false);
    expect(task.registry).toBe(registry);
    expect(task.options.queue).toBe('own');
  });

  it('sends a task of another registry with its own options: routed to its own queue, refused before any call if that queue is unknown', async () => {
    const registry = new celerity.TaskRegistry();
    const task = celerity.defineTask('apps.surface.tasks.routed', () => 1, { registry, queue: 'reports' });
    celerity.configure({
      queues: {
        default: { url: 'http://127.0.0.1:9/000000000000/default', arn: 'arn:aws:sqs:us-east-1:0:default' },
      },
    });
    try {
      const error = await task.delay().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(celerity.ValidationError);
      expect((error as Error).message).toContain('no queue named "reports"');
    } finally {
      celerity.resetConfig();
    }
  });

  it('types the periodic-task store inputs from its schema (what `npm run typecheck` checks here)', () => {
    // Never called: the lines marked @ts-expect-error must not compile.
    const typed = (store: PeriodicTaskStore, _stack?: CelerityStack) => {
      void store.add({ name: 'n', task: 'apps.x.tasks.y', crontab: { minute: '0' } });
      // @ts-expect-error: a misspelt field is refused by the type, as the schema refuses it
      void store.add({ name: 'n', task: 'apps.x.tasks.y', crontab: { minute: '0' }, enabeld: false });
      void store.update('n', { description: null, enabled: false });
      // @ts-expect-error: a field of the wrong type
      void store.update('n', { enabled: 'no' });
    };
    expect(typed).toBeTypeOf('function');
  });
});
