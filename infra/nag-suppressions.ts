import { Stack, Validations } from 'aws-cdk-lib';
import type { NodejsFunction } from 'aws-cdk-lib/aws-lambda-nodejs';
import type { IConstruct } from 'constructs';
import type { CelerityStack } from './stack.ts';

/**
 * Every cdk-nag AwsSolutions finding the stack keeps, with the reason, in one place. Each is
 * acknowledged on the construct it concerns and, for wildcard findings, for the one resource
 * named, so a new wildcard elsewhere still fails `test/unit/infra-nag.test.ts`.
 */
export function acknowledgeNagFindings(stack: CelerityStack): void {
  const ack = (scope: IConstruct, id: string, reason: string) =>
    Validations.of(scope).acknowledge({ id: `AwsSolutions-${id}`, reason });
  const groupSchedules = (groupName: string) =>
    `IAM5[Resource::arn:<AWS::Partition>:scheduler:<AWS::Region>:<AWS::AccountId>:schedule/${Stack.of(stack).resolve(groupName)}/*]`;
  const delayed = groupSchedules(stack.delays.scheduleGroup.scheduleGroupName);
  const periodic = groupSchedules(stack.beat.scheduleGroup.scheduleGroupName);

  // Policy findings belong to the function's role, the rest to the function.
  const roleOf = (fn: NodejsFunction): IConstruct => fn.role ?? fn;
  for (const taskQueue of stack.taskQueues.values()) {
    const worker = taskQueue.worker;
    ack(
      roleOf(worker),
      delayed,
      'Producers name one-time schedules at run time (one per task id and attempt); every schedule ' +
        'of the delayed-task group is the narrowest resource that covers them: Create and Get, and ' +
        'Delete for a revoke of a far-eta task from inside a task.',
    );

    ack(
      roleOf(worker),
      periodic,
      'A worker re-arms the solar schedule of the periodic task it just ran, named after that ' +
        'task; UpdateSchedule on the periodic group only, with PassRole of the scheduler role only.',
    );
    ack(worker, 'L1', nodeRuntimeReason);
  }

  ack(
    stack.delays.listSchedulesPolicy,
    'IAM5[Resource::*]',
    'scheduler:ListSchedules has no resource type in the Service Authorization Reference, so a ' +
      "scoped policy never matches; the call's GroupName keeps a revoke's listing to the delayed group.",
  );

  const sync = stack.beat.syncFunction;
  ack(
    roleOf(sync),
    periodic,
    "Beat sync creates, updates, reads and deletes the periodic group's schedules, one per periodic task " +
      'named at run time: the group is the narrowest resource.',
  );
  ack(
    roleOf(sync),
    'IAM5[Resource::*]',
    'Two actions that have no resource type in the Service Authorization Reference, so a scoped ' +
      "policy never matches: scheduler:ListSchedules (the call's GroupName keeps it to the periodic " +
      "group) and dynamodb:ListStreams (added by the stream's event source mapping).",
  );
  ack(sync, 'L1', nodeRuntimeReason);

  const admin = stack.admin.function;
  ack(
    roleOf(admin),
    delayed,
    'The admin API applies tasks with a countdown past 15 minutes and revokes them, as a producer ' +
      'does: one-time schedules are named at run time, so the delayed-task group is the narrowest resource.',
  );
  ack(
    stack.admin.metricsPolicy,
    'IAM5[Resource::*]',
    'cloudwatch:GetMetricData has no resource type in the Service Authorization Reference, so a ' +
      "scoped policy never matches; the admin API reads only the route queues' ApproximateAgeOfOldestMessage with it.",
  );
  ack(admin, 'L1', nodeRuntimeReason);
  for (const secret of Object.values(stack.admin.tokenSecrets)) {
    ack(
      secret,
      'SMG4',
      'A bearer token for people, not a database password: it is rotated by hand (put-secret-value, ' +
        'see docs/admin-api.md), and the function re-reads it within 5 minutes. A rotation Lambda ' +
        'would have nothing to update but the secret itself.',
    );
  }

  ack(
    stack.delays.deadLetterQueue,
    'SQS3',
    "This queue is itself a dead-letter queue: the Scheduler's (each schedule's DeadLetterConfig names " +
      'it at run time), which cdk-nag cannot see because no RedrivePolicy points at it. It is alarmed on.',
  );
  ack(
    stack.beat.failureQueue,
    'SQS3',
    "This queue is itself a failure queue: the beat-sync stream mapping's and async invocation's " +
      'on-failure destination, which cdk-nag cannot see because no RedrivePolicy points at it. It is alarmed on.',
  );
  ack(
    stack.results.rateLimitTable,
    'DDB3',
    'Rate-limit counters live for one window (seconds to an hour) and are rebuilt by use; a restore ' +
      'to an earlier point would only hand out spent quota again.',
  );

  // aws-cdk-lib's singleton provider behind AwsCustomResource (Beat's deploy-time reconcile).
  const provider = stack.node.tryFindChild(AWS_CUSTOM_RESOURCE_PROVIDER_ID);
  if (provider) {
    ack(
      provider,
      'IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
      "The role of aws-cdk-lib's AwsCustomResource provider, which runs only during a deploy; the " +
        'managed policy lets it write its own logs and nothing else. Its invoke permission is a ' +
        "separate policy on Beat's sync function version alone.",
    );
  }
}

/** The construct id aws-cdk-lib gives the AwsCustomResource provider function in a stack. */
const AWS_CUSTOM_RESOURCE_PROVIDER_ID = 'AWS679f53fac002430cb0da5b7982bd2287';

const nodeRuntimeReason =
  'Pinned to nodejs22.x, the Node the project declares in engines, bundles for (target node22) and ' +
  'tests on, including the local cloud that runs these handlers in-process: what is tested is what ' +
  'runs. Moving to a newer runtime is a decision for all three at once.';
