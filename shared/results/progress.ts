import { type DynamoDBDocumentClient, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { isAwsError } from '../aws/errors.ts';
import { TaskState } from '../task/states.ts';

/** A running task's custom state (`ctx.updateState`), as the run that holds the task reports it. */
export interface StateChange {
  taskId: string;
  state: TaskState;
  /** The meta as JSON text: kept in `result`, as django-celery-results keeps a custom state's meta. */
  metaJson: string;
  /** The lease token of the run that reports it: written only while that run holds the task. */
  heldBy: string;
}

/**
 * Sets a row's state and meta while the run holding its lease goes on. Never over a finished row
 * (its outcome, a revoke) nor another run's: false then, and nothing is written. The listing
 * index key stays the one the claim wrote (PENDING, STARTED or RETRY): a row a run holds is found
 * where `inspect active` looks, and a listing by state filters on the state itself.
 */
export async function writeRunState(
  dynamo: DynamoDBDocumentClient,
  table: string,
  change: StateChange,
): Promise<boolean> {
  return unlessRefused(
    dynamo.send(
      new UpdateCommand({
        TableName: table,
        Key: { taskId: change.taskId },
        UpdateExpression: 'SET #status = :state, #result = :meta',
        ConditionExpression: `leaseToken = :heldBy AND ${notReady('#status')}`,
        ExpressionAttributeNames: { '#status': 'status', '#result': 'result' },
        ExpressionAttributeValues: {
          ':state': change.state,
          ':meta': change.metaJson,
          ':heldBy': change.heldBy,
          ...READY_VALUES,
        },
      }),
    ),
  );
}

/** The ready states as expression values, for `notReady`. */
export const READY_VALUES = {
  ':success': TaskState.SUCCESS,
  ':failure': TaskState.FAILURE,
  ':revoked': TaskState.REVOKED,
} as const;

/** A condition that an item holding a ready state (in `name`) refuses; its values are `READY_VALUES`. */
export function notReady(name: string): string {
  return `NOT ${name} IN (:success, :failure, :revoked)`;
}

/** A conditional write's fate: true when written, false when its condition refused it. */
export async function unlessRefused(write: Promise<unknown>): Promise<boolean> {
  try {
    await write;
    return true;
  } catch (error) {
    if (isAwsError(error, 'ConditionalCheckFailedException')) return false;
    throw error;
  }
}
