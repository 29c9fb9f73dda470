import type { CelerityConfig } from '../config/config.ts';
import { ValidationError } from '../errors.ts';
import type { TaskRegistry } from '../task/registry.ts';
import { routeTask } from '../task/routing.ts';
import type { PeriodicTask } from './definition.ts';
import type { ScheduleTarget } from './schedule-input.ts';

/** Where periodic schedules go and deliver, from the configuration a function is given. */
export type BeatTarget = Omit<ScheduleTarget, 'now'>;

/**
 * The periodic schedule group, the Scheduler's role and DLQ, and each periodic task's queue: its
 * own `queue`, else the app's routes for its task, else the task's declared queue, else the
 * default — the same order the producer follows for `delay()`.
 */
export function beatTarget(config: CelerityConfig, registry?: TaskRegistry): BeatTarget {
  if (!config.beat) {
    throw ValidationError.of(
      'config.beat',
      'is not set (CELERITY_PERIODIC_TASKS_TABLE and CELERITY_PERIODIC_SCHEDULE_GROUP)',
    );
  }
  if (!config.scheduler) {
    throw ValidationError.of(
      'config.scheduler',
      'is not set (CELERITY_SCHEDULER_ROLE_ARN names the role schedules deliver with)',
    );
  }
  const queueArn = (definition: PeriodicTask): string => {
    const route =
      definition.queue ??
      routeTask(
        definition.task,
        config.taskRoutes,
        registry?.get(definition.task)?.options.queue,
        config.defaultQueue,
      );
    const target = config.queues[route];
    if (!target) {
      throw ValidationError.of(
        'queue',
        `no task queue named "${route}" (the stack has: ${Object.keys(config.queues).join(', ') || 'none'})`,
      );
    }
    return target.arn;
  };
  return {
    groupName: config.beat.groupName,
    roleArn: config.scheduler.roleArn,
    ...(config.scheduler.deadLetterArn ? { deadLetterArn: config.scheduler.deadLetterArn } : {}),
    queueArn,
  };
}
