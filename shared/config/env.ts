/**
 * The environment variables through which the CDK stack (and the local runner, which reads the
 * same template) tells a function where its resources are. Both sides import these names.
 */
export const ConfigEnv = {
  /** JSON: `{ "<route queue>": { "url": "...", "arn": "..." } }` */
  queues: 'CELERITY_QUEUES',
  resultsTable: 'CELERITY_RESULTS_TABLE',
  /** The table in Celery's own DynamoDB result-backend layout; set, the worker mirrors Celery tasks' outcomes. */
  celeryResultsTable: 'CELERITY_CELERY_RESULTS_TABLE',
  rateLimitTable: 'CELERITY_RATE_LIMIT_TABLE',
  schedulerGroup: 'CELERITY_SCHEDULER_GROUP',
  schedulerRoleArn: 'CELERITY_SCHEDULER_ROLE_ARN',
  schedulerDeadLetterArn: 'CELERITY_SCHEDULER_DLQ_ARN',
  /** Beat: the periodic-tasks table and the schedule group its schedules live in. */
  periodicTasksTable: 'CELERITY_PERIODIC_TASKS_TABLE',
  periodicScheduleGroup: 'CELERITY_PERIODIC_SCHEDULE_GROUP',
  /** Celery's `timezone`: the zone of crontabs that name none. */
  timezone: 'CELERITY_TIMEZONE',
  /** How many task bodies one worker invocation runs at once (a route's setting, from the stack). */
  workerConcurrency: 'CELERITY_WORKER_CONCURRENCY',
} as const;
