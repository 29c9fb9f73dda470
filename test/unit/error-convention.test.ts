import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { CelerityError, exceptionTypeOf } from '../../shared/errors.ts';

const ROOT = join(import.meta.dirname, '../..');

/**
 * The errors that keep Celery's own class names (docs/decisions.md, "One error convention"):
 * code written for Celery catches and retries them by these names.
 */
const CELERY_NAMES = [
  'Retry',
  'Reject',
  'SoftTimeLimitExceeded',
  'TimeLimitExceeded',
  'MaxRetriesExceeded',
  'NotRegistered',
];

function files(dir: string, match: (name: string) => boolean): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, encoding: 'utf8' })
    .filter((file) => match(file))
    .map((file) => join(dir, file));
}

const errorModules = [
  ...files('shared', (f) => f.endsWith('errors.ts')),
  'functions/tasks/errors.ts',
  'cli/errors.ts',
];

type ErrorClass = new (...args: unknown[]) => Error;

/** An instance built with whatever arguments the constructor accepts: its `name` is set there. */
function instanceOf(cls: ErrorClass): Error {
  for (const args of [[], [[], []], ['x', 'x'], ['x', 1, 1]]) {
    try {
      return new cls(...args);
    } catch {}
  }
  throw new Error(`${cls.name}: add arguments to build it with`);
}

async function exportedErrorClasses(): Promise<Map<ErrorClass, string>> {
  const classes = new Map<ErrorClass, string>();
  for (const file of errorModules) {
    const module: Record<string, unknown> = await import(join(ROOT, file));
    for (const value of Object.values(module)) {
      if (typeof value === 'function' && value.prototype instanceof Error)
        classes.set(value as ErrorClass, file);
    }
  }
  return classes;
}

describe('one error convention', () => {
  it("every exported error is a CelerityError named `…Error`, as its class, bar Celery's own names", async () => {
    const classes = await exportedErrorClasses();
    expect(classes.size).toBeGreaterThan(25);
    const wrong: string[] = [];
    for (const [cls, file] of classes) {
      const error = instanceOf(cls);
      const where = `${file}: ${cls.name}`;
      if (!(error instanceof CelerityError)) wrong.push(`${where} is not a CelerityError`);
      if (error.name !== cls.name) wrong.push(`${where} sets this.name to ${error.name}`);
      if (!cls.name.endsWith('Error') && !CELERY_NAMES.includes(cls.name))
        wrong.push(`${where} is not named …Error`);
    }
    expect(wrong).toEqual([]);
  });

  it('keeps the name each error was recorded under before the convention', async () => {
    const { ResultTooLargeError } = await import('../../shared/results/errors.ts');
    const { UnexpectedKeywordArgumentError, TaskFailed, TaskFailedError } = await import(
      '../../shared/index.ts'
    );
    const tooLarge = new ResultTooLargeError(300_000, 262_144);
    expect(tooLarge.name).toBe('ResultTooLargeError');
    expect(exceptionTypeOf(tooLarge)).toBe('ResultTooLarge');
    // Celery's TypeError for a keyword the task does not take.
    expect(exceptionTypeOf(new UnexpectedKeywordArgumentError('t', ['x']))).toBe('TypeError');
    expect(exceptionTypeOf(Object.assign(new Error('x'), { name: 'ConflictException' }))).toBe(
      'ConflictException',
    );
    expect(exceptionTypeOf('not an error')).toBe('Error');
    // A subclass records its own name, not the old name its parent kept.
    class PartlyTooLargeError extends ResultTooLargeError {
      constructor() {
        super(1, 0);
        this.name = 'PartlyTooLargeError';
      }
    }
    expect(exceptionTypeOf(new PartlyTooLargeError())).toBe('PartlyTooLargeError');
    // The traceback opens with the recorded type too, as Celery's does.
    const { describeError } = await import('../../shared/worker/execute.ts');
    expect(describeError(new UnexpectedKeywordArgumentError('t', ['x']))).toMatchObject({
      errorType: 'TypeError',
      traceback: expect.stringMatching(/^TypeError: t\(\) got an unexpected keyword argument "x"\n/),
    });
    // The old export names the docs taught still work, as the same class.
    expect(TaskFailed).toBe(TaskFailedError);
  });

  it('lists the names that are not …Error in docs/decisions.md, with their reason', () => {
    const decisions = readFileSync(join(ROOT, 'docs/decisions.md'), 'utf8');
    const section = decisions.split('## One error convention')[1]?.split('\n## ')[0] ?? '';
    for (const name of CELERY_NAMES) expect(section, name).toContain(`\`${name}\``);
  });

  it('declares error classes only in errors.ts files, and no parser throws a bare RangeError', () => {
    const sources = ['shared', 'cli', 'functions'].flatMap((dir) => files(dir, (f) => f.endsWith('.ts')));
    const stray = sources.filter(
      (file) =>
        !file.endsWith('errors.ts') &&
        /class \w+ extends \w*Error\b/.test(readFileSync(join(ROOT, file), 'utf8')),
    );
    const ranges = sources.filter((file) => /new RangeError\(/.test(readFileSync(join(ROOT, file), 'utf8')));
    expect({ stray, ranges }).toEqual({ stray: [], ranges: [] });
  });
});
