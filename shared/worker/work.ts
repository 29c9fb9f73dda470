import { randomUUID } from 'node:crypto';
import type { SQSRecord } from 'aws-lambda';
import { envelopeDigest } from '../envelope/digest.ts';
import type { Envelope, EnvelopeInput } from '../envelope/schema.ts';
import type { TaskResultRecord } from '../results/record.ts';
import type { ClaimRequest, Completion } from '../results/store.ts';
import type { RegisteredTask } from '../task/registry.ts';
import { TaskState } from '../task/states.ts';

/** A record of the batch that decoded into a task this worker knows. */
export interface Work {
  record: SQSRecord;
  envelope: Envelope;
  task: RegisteredTask;
  /** The row this run claims: the task as it reads while the run holds it. */
  row: ClaimRequest;
  /** Set when a rate-limit token was taken: the end of the window it is good for. */
  windowEnd?: number;
  /** A redelivery of a task found finished: its row, as the refused claim returned it. */
  finishedRow?: TaskResultRecord;
}

/** A message to send again (a retry, a deferral), and the row to record once it has gone. */
export interface Resend {
  messageId: string;
  /**
   * `retry` and `deferral` follow a claim (their row holds the lease); `eta` is a message come
   * early, `later` one of a sub-minute interval's further runs: neither has run.
   */
  kind: 'retry' | 'deferral' | 'eta' | 'later';
  envelope: EnvelopeInput;
  delaySeconds: number;
  completion?: Completion;
}

/** The row a run claims: everything the envelope says, the run's lease, and the state to show. */
export function claimRow(
  envelope: Envelope,
  task: RegisteredTask,
  run: { worker: string; now: number; invocationEnd: number; expiresAt: number },
): ClaimRequest {
  return {
    taskId: envelope.id,
    taskName: envelope.task,
    status: task.options.trackStarted
      ? TaskState.STARTED
      : envelope.retries > 0
        ? TaskState.RETRY
        : TaskState.PENDING,
    retries: envelope.retries,
    args: JSON.stringify(envelope.args),
    kwargs: JSON.stringify(envelope.kwargs),
    queue: envelope.queue,
    origin: envelope.origin,
    periodicTask: envelope.periodicTask,
    parentId: envelope.parentId,
    eta: envelope.eta,
    envelopeDigest: envelopeDigest(envelope),
    // A retry's envelope keeps the first send's time: the row dates from the first attempt.
    dateCreated: envelope.sentAt ?? new Date(run.now).toISOString(),
    dateStarted: new Date(run.now).toISOString(),
    worker: run.worker,
    expiresAt: run.expiresAt,
    // The lease ends with the invocation; the message comes back only after its visibility
    // timeout (six times the function's), so a crashed run is always taken over.
    leaseUntil: run.invocationEnd,
    leaseToken: randomUUID(),
  };
}

/** The row a run records: its claim, less the lease, with the outcome's fields over it. */
export function outcomeRow(w: Work, fields: Partial<TaskResultRecord>): Completion {
  const { leaseUntil: _until, leaseToken, ...claimed } = w.row;
  return { record: { ...claimed, ...fields }, heldBy: leaseToken };
}
