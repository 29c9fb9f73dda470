import { App, Duration } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import {
  HEAVY_ROUTE,
  HEAVY_TIME_LIMIT_SECONDS,
  isHeavyRoute,
  LIGHT_ROUTE,
  routeShape,
} from '../../infra/route-shape.ts';
import { CelerityStack } from '../../infra/stack.ts';
import { ConfigEnv } from '../../shared/config/env.ts';
import { ValidationError } from '../../shared/errors.ts';
import { defineTask, type RegisteredTask, TaskRegistry } from '../../shared/task/index.ts';

function tasksWithLimits(...limits: number[]): RegisteredTask[] {
  const registry = new TaskRegistry();
  for (const [i, timeLimit] of limits.entries()) {
    defineTask(`apps.t.tasks.t${i}`, () => null, { timeLimit }, registry);
  }
  return registry.list();
}

function refusal(run: () => unknown): ValidationError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(ValidationError);
    return error as ValidationError;
  }
  return expect.unreachable('the tuning was accepted');
}

describe("a route's shape", () => {
  it('is heavy when its longest task may run past ten minutes, light otherwise', () => {
    expect(isHeavyRoute(tasksWithLimits(60, HEAVY_TIME_LIMIT_SECONDS))).toBe(false);
    expect(isHeavyRoute(tasksWithLimits(60, HEAVY_TIME_LIMIT_SECONDS + 1))).toBe(true);
    expect(isHeavyRoute([])).toBe(false);
    const { tuning: _light, ...light } = routeShape('default', tasksWithLimits(30, 300));
    expect(light).toEqual(LIGHT_ROUTE);
    const { tuning: _heavy, ...heavy } = routeShape('heavy', tasksWithLimits(30, 870));
    expect(heavy).toEqual(HEAVY_ROUTE);
    // One message, one body, one full vCPU.
    expect(heavy).toMatchObject({ batchSize: 1, concurrency: 1, memorySize: 1769 });
  });

  it('takes what a route sets over what its tasks suggest, and brings concurrency down with a smaller batch', () => {
    const shape = routeShape('default', tasksWithLimits(30), {
      memorySize: 1024,
      batchSize: 20,
      maxConcurrency: 50,
    });
    expect(shape).toMatchObject({ memorySize: 1024, batchSize: 20, maxConcurrency: 50, concurrency: 20 });
    expect(routeShape('heavy', tasksWithLimits(870), { batchSize: 4, concurrency: 2 })).toMatchObject({
      batchSize: 4,
      concurrency: 2,
      memorySize: 1769,
    });
  });

  it('refuses what AWS would, or what makes no sense, naming the route and field', () => {
    const tasks = tasksWithLimits(30);
    expect(refusal(() => routeShape('default', tasks, { concurrency: 200 })).field).toBe(
      'queueTuning.default.concurrency',
    );
    expect(refusal(() => routeShape('default', tasks, { memorySize: 64 })).field).toBe(
      'queueTuning.default.memorySize',
    );
    expect(refusal(() => routeShape('default', tasks, { maxConcurrency: 1 })).field).toBe(
      'queueTuning.default.maxConcurrency',
    );
    expect(
      refusal(() => routeShape('default', tasks, { batchSize: 50, maxBatchingWindow: Duration.seconds(0) }))
        .field,
    ).toBe('queueTuning.default.batchSize');
    expect(
      refusal(() => routeShape('default', tasks, { maxBatchingWindow: Duration.minutes(6) })).field,
    ).toBe('queueTuning.default.maxBatchingWindow');
    // A misspelt setting is an error, not a silent default.
    expect(refusal(() => routeShape('default', tasks, { batchsize: 10 })).message).toContain('batchsize');
  });
});

describe('a route tuned in the stack', () => {
  it("sizes the worker, its mapping and its in-invocation concurrency from the route's settings", () => {
    const registry = new TaskRegistry();
    defineTask('apps.t.tasks.quick', () => null, { timeLimit: 30 }, registry);
    defineTask('apps.t.tasks.crunch', () => null, { timeLimit: 800, queue: 'crunch' }, registry);
    const app = new App({
      context: { 'aws:cdk:bundling-stacks': [] },
      builtinCloudFormationValidation: false,
    });
    const stack = new CelerityStack(app, 'Tuned', {
      registry,
      routeQueues: ['default', 'crunch'],
      taskRoutes: {},
      queueTuning: { default: { memorySize: 1024, batchSize: 10, maxBatchingWindow: Duration.seconds(0) } },
    });
    const template = Template.fromStack(stack);
    const worker = (route: string) => stack.taskQueues.get(route)?.worker.node.defaultChild;
    const props = (route: string) =>
      template.toJSON().Resources[stack.getLogicalId(worker(route) as never)].Properties as {
        MemorySize: number;
        Environment: { Variables: Record<string, string> };
      };
    expect(props('default').MemorySize).toBe(1024);
    expect(props('default').Environment.Variables[ConfigEnv.workerConcurrency]).toBe('10');
    expect(props('crunch').MemorySize).toBe(1769);
    expect(props('crunch').Environment.Variables[ConfigEnv.workerConcurrency]).toBe('1');
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 10,
      MaximumBatchingWindowInSeconds: 0,
      ScalingConfig: { MaximumConcurrency: 10 },
    });
    template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      BatchSize: 1,
      ScalingConfig: { MaximumConcurrency: 5 },
    });
  });
});
