/**
 * The environment variables through which the CDK stack (and the local runner, which reads the
 * same template) tells a function where its resources are. Both sides import these names.
 */
export const ConfigEnv = {
  /** JSON: `{ "<route queue>": { "url": "...", "arn": "..." } }` */
  queues: 'CELERITY_QUEUES',
  resultsTable: 'CELERITY_RESULTS_TABLE',
  rateLimitTable: 'CELERITY_RATE_LIMIT_TABLE',
  schedulerGroup: 'CELERITY_SCHEDULER_GROUP',
  schedulerRoleArn: 'CELERITY_SCHEDULER_ROLE_ARN',
  schedulerDeadLetterArn: 'CELERITY_SCHEDULER_DLQ_ARN',
} as const;
