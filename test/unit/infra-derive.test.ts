import { App, Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { tasksByRoute, workerTimeoutSeconds } from '../../infra/derive.ts';
import { CelerityStack } from '../../infra/stack.ts';
import { ValidationError } from '../../shared/errors.ts';
import {
  defineTask,
  MAX_TIME_LIMIT_SECONDS,
  resolveTaskOptions,
  TaskRegistry,
} from '../../shared/task/index.ts';
import { INVOCATION_OVERHEAD_SECONDS } from '../../shared/task/options.ts';

const ROUTES = ['default', 'heavy', 'notifications'];
const TASK_ROUTES = {
  'apps.studies.tasks.process_large_file': 'heavy',
  'apps.notifications.tasks.*': 'notifications',
};

function registryWith(tasks: Record<string, Parameters<typeof resolveTaskOptions>[1]>): TaskRegistry {
  const registry = new TaskRegistry();
  for (const [name, options] of Object.entries(tasks)) defineTask(name, () => null, options, registry);
  return registry;
}

describe('a task whose hard time limit cannot fit', () => {
  it('is refused when defined, naming timeLimit', () => {
    const tooLong = { timeLimit: MAX_TIME_LIMIT_SECONDS + 1 };
    expect(() => resolveTaskOptions('apps.studies.tasks.too_long', tooLong)).toThrow(ValidationError);
    try {
      defineTask('apps.studies.tasks.too_long', () => null, tooLong, new TaskRegistry());
      expect.unreachable('defineTask accepted a time limit Lambda cannot honour');
    } catch (error) {
      expect(error).toBeInstanceOf(ValidationError);
      expect((error as ValidationError).field).toMatch(/timeLimit$/);
      expect((error as ValidationError).message).toContain('900');
    }
  });

  it('fits at the maximum, which uses Lambda’s whole 900 s', () => {
    const registry = registryWith({ 'apps.x.tasks.longest': { timeLimit: MAX_TIME_LIMIT_SECONDS } });
    expect(workerTimeoutSeconds(registry.list())).toBe(900);
  });
});

describe('worker timeouts', () => {
  it('take the longest hard limit on the queue plus the overhead, rounded up', () => {
    const registry = registryWith({
      'apps.a.tasks.one': { timeLimit: 4.2 },
      'apps.a.tasks.two': { timeLimit: 60 },
    });
    expect(workerTimeoutSeconds(registry.list())).toBe(60 + INVOCATION_OVERHEAD_SECONDS);
    expect(workerTimeoutSeconds(registryWith({ 'apps.a.tasks.x': { timeLimit: 4.2 } }).list())).toBe(
      5 + INVOCATION_OVERHEAD_SECONDS,
    );
  });

  it('fall back to the default time limit on a queue with no tasks', () => {
    expect(workerTimeoutSeconds([])).toBe(
      resolveTaskOptions('probe').timeLimit + INVOCATION_OVERHEAD_SECONDS,
    );
  });
});

describe('routing tasks to queues at synth', () => {
  it('uses task_routes, then the task’s queue option, then the default queue', () => {
    const registry = registryWith({
      'apps.studies.tasks.process_large_file': {},
      'apps.notifications.tasks.send_email': { queue: 'default' },
      'apps.reports.tasks.build': { queue: 'heavy' },
      'apps.demo.tasks.add': {},
    });
    const routed = tasksByRoute(registry, ROUTES, TASK_ROUTES, 'default');
    const names = (route: string) => routed.get(route)?.map((task) => task.name);
    expect(names('heavy')).toEqual(['apps.reports.tasks.build', 'apps.studies.tasks.process_large_file']);
    expect(names('notifications')).toEqual(['apps.notifications.tasks.send_email']);
    expect(names('default')).toEqual(['apps.demo.tasks.add']);
  });

  it('refuses a task routed to a queue the stack would not make', () => {
    const registry = registryWith({ 'apps.reports.tasks.build': { queue: 'reports' } });
    expect(() => tasksByRoute(registry, ROUTES, TASK_ROUTES, 'default')).toThrow(
      /apps\.reports\.tasks\.build/,
    );
    expect(() => tasksByRoute(new TaskRegistry(), ROUTES, { 'apps.*': 'nowhere' }, 'default')).toThrow(
      ValidationError,
    );
    expect(() => tasksByRoute(new TaskRegistry(), ROUTES, {}, 'elsewhere')).toThrow(/defaultQueue/);
  });
});

describe('a stack built from another registry', () => {
  it('derives the heavy worker’s timeout and visibility from its tasks', () => {
    const registry = registryWith({
      'apps.studies.tasks.process_large_file': { timeLimit: 600, softTimeLimit: 540 },
      'apps.notifications.tasks.send_email': { timeLimit: 20 },
    });
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    const stack = new CelerityStack(app, 'Derived', {
      registry,
      routeQueues: ROUTES,
      taskRoutes: TASK_ROUTES,
      queueTuning: { heavy: { memorySize: 2048, maxConcurrency: 2, maxBatchingWindow: Duration.seconds(5) } },
    });
    const template = Template.fromStack(stack);
    const heavy = stack.taskQueues.get('heavy');
    const heavyId = stack.getLogicalId(heavy?.worker.node.defaultChild as never);
    const heavyQueueId = stack.getLogicalId(heavy?.queue.node.defaultChild as never);
    const resources = template.toJSON().Resources;
    expect(resources[heavyId].Properties).toMatchObject({ Timeout: 630, MemorySize: 2048 });
    expect(resources[heavyQueueId].Properties.VisibilityTimeout).toBe(6 * 630);
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      FunctionName: { Ref: heavyId },
      MaximumBatchingWindowInSeconds: 5,
      ScalingConfig: { MaximumConcurrency: 2 },
    });
    const notifications = stack.taskQueues.get('notifications')?.worker.node.defaultChild;
    expect(resources[stack.getLogicalId(notifications as never)].Properties.Timeout).toBe(
      20 + INVOCATION_OVERHEAD_SECONDS,
    );
  });
});
