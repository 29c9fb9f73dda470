import { describe, expect, it } from 'vitest';
import { ValidationError } from '../../shared/errors.ts';
import { MAX_TIME_LIMIT_SECONDS, parseRateLimit, resolveTaskOptions } from '../../shared/task/options.ts';
import { TaskRegistry } from '../../shared/task/registry.ts';
import { routeTask } from '../../shared/task/routing.ts';

function refusal(fn: () => unknown): ValidationError {
  try {
    fn();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  throw new Error('expected a ValidationError');
}

describe('task options', () => {
  it("fills Celery's defaults", () => {
    const o = resolveTaskOptions('apps.x.tasks.y');
    expect(o).toMatchObject({
      maxRetries: 3,
      defaultRetryDelay: 180,
      retryBackoff: 0,
      retryBackoffMax: 600,
      retryJitter: true,
      ignoreResult: false,
      trackStarted: false,
      timeLimit: 300,
    });
    expect(o.rateLimit).toBeUndefined();
  });

  it('reads rate limits per second, minute and hour', () => {
    expect(parseRateLimit('10/s')).toEqual({ limit: 10, windowSeconds: 1, text: '10/s' });
    expect(parseRateLimit('10/m').windowSeconds).toBe(60);
    expect(parseRateLimit('100/h').windowSeconds).toBe(3600);
  });

  it.each([
    [{ rateLimit: '10 per minute' }, 'rateLimit'],
    [{ rateLimit: '0/s' }, 'rateLimit'],
    [{ maxRetries: -1 }, 'maxRetries'],
    [{ timeLimit: MAX_TIME_LIMIT_SECONDS + 1 }, 'timeLimit'],
    [{ timeLimit: 0 }, 'timeLimit'],
    [{ retryBackoff: -2 }, 'retryBackoff'],
    [{ queueName: 'heavy' }, ''],
    [{ autoretryFor: [42] }, 'autoretryFor'],
  ])('refuses %j naming the field', (options, field) => {
    const error = refusal(() => resolveTaskOptions('apps.x.tasks.y', options as never));
    expect(error.field).toContain('task apps.x.tasks.y options');
    expect(error.message).toContain(field);
  });

  it('refuses a time limit Lambda cannot fit, saying why', () => {
    const error = refusal(() => resolveTaskOptions('apps.x.tasks.y', { timeLimit: 1000 }));
    expect(error.message).toMatch(/timeLimit: must be at most 870 s: Lambda stops at 900 s/);
  });

  it('refuses a soft limit at or above the hard one', () => {
    const error = refusal(() => resolveTaskOptions('apps.x.tasks.y', { timeLimit: 10, softTimeLimit: 10 }));
    expect(error.field).toBe('task apps.x.tasks.y options.softTimeLimit');
  });

  it('takes retryBackoff true as a factor of one second', () => {
    expect(resolveTaskOptions('a.b', { retryBackoff: true }).retryBackoff).toBe(1);
    expect(resolveTaskOptions('a.b', { retryBackoff: 5 }).retryBackoff).toBe(5);
  });
});

describe('registry', () => {
  const handler = () => null;
  it('refuses names that are not dotted identifiers, and duplicates', () => {
    const registry = new TaskRegistry();
    const task = (name: string) => ({ name, handler, options: resolveTaskOptions(name) });
    expect(refusal(() => registry.register(task('apps/notifications'))).field).toBe('name');
    expect(refusal(() => registry.register(task(''))).field).toBe('name');
    registry.register(task('apps.a.tasks.b'));
    expect(refusal(() => registry.register(task('apps.a.tasks.b'))).message).toMatch(/already registered/);
    expect(registry.list().map((t) => t.name)).toEqual(['apps.a.tasks.b']);
  });
});

describe('routing', () => {
  const routes = {
    'apps.studies.tasks.process_large_file': 'heavy',
    'apps.notifications.tasks.*': 'notifications',
    'apps.*': 'catch-all',
  };
  it('prefers an exact route, then the first matching glob, then the task queue, then the default', () => {
    expect(routeTask('apps.studies.tasks.process_large_file', routes, undefined, 'default')).toBe('heavy');
    expect(routeTask('apps.notifications.tasks.send_email_notification', routes, 'x', 'default')).toBe(
      'notifications',
    );
    expect(routeTask('apps.studies.tasks.other', routes, undefined, 'default')).toBe('catch-all');
    expect(routeTask('lib.tasks.thing', routes, 'own', 'default')).toBe('own');
    expect(routeTask('lib.tasks.thing', routes, undefined, 'default')).toBe('default');
  });
  it('treats dots in patterns literally', () => {
    expect(
      routeTask('appsXnotificationsXtasksXa', { 'apps.notifications.tasks.*': 'n' }, undefined, 'd'),
    ).toBe('d');
  });
});
