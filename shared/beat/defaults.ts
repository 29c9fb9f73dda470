import { type PeriodicTask, type PeriodicTaskInput, parsePeriodicTask } from './model.ts';

/**
 * The seed app's `setup_periodic_tasks`. No timezone: the crontabs run in the app's configured
 * zone, as Celery's do. Writing them must be idempotent (a conditional put on the name), so a
 * second run changes nothing and keeps the run statistics.
 */
export const DEFAULT_PERIODIC_TASKS: readonly PeriodicTaskInput[] = [
  {
    name: 'Send Appointment Reminders',
    task: 'apps.appointments.tasks.send_appointment_reminders',
    crontab: { minute: '0', hour: '9' },
    description: 'Sends reminders for appointments in the next 24 hours; daily at 9:00 AM.',
  },
  {
    name: 'Cleanup Old Notifications',
    task: 'apps.notifications.tasks.cleanup_old_notifications',
    crontab: { minute: '0', hour: '2', dayOfWeek: '0' },
    description: 'Deletes read notifications older than 90 days; weekly on Sunday at 2:00 AM.',
  },
];

/** The defaults, validated; `defaultTimezone` is the app's configured timezone. */
export function defaultPeriodicTasks(options: { now: Date; defaultTimezone?: string }): PeriodicTask[] {
  return DEFAULT_PERIODIC_TASKS.map((input) => parsePeriodicTask(input, options));
}
