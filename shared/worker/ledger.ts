import type { SQSRecord } from 'aws-lambda';
import type { Completion } from '../results/store.ts';
import type { TaskState } from '../task/states.ts';
import type { Resend } from './work.ts';

export interface PendingCompletion {
  messageId: string;
  completion: Completion;
}

/** One run's (or poison message's) end, for the batch's metrics. */
export interface Observation {
  queue: string;
  task: string;
  state: TaskState;
  runtimeMs?: number;
  queueWaitMs?: number;
}

/**
 * What a batch comes to, record by record: the rows to write, the messages to send again, the
 * records that must come back (each with its reason, for the log), and what the metrics count.
 */
export class BatchLedger {
  readonly completions: PendingCompletion[] = [];
  readonly resends: Resend[] = [];
  /** messageId → why the message must be delivered again. */
  readonly returned = new Map<string, string>();
  /** Records that could not be used at all: their visibility is shortened, so they reach the DLQ soon. */
  readonly poison: SQSRecord[] = [];
  readonly observations: Observation[] = [];

  giveBack(messageId: string, reason: string): void {
    if (!this.returned.has(messageId)) this.returned.set(messageId, reason);
  }

  record(messageId: string, completion: Completion): void {
    this.completions.push({ messageId, completion });
  }

  observe(observation: Observation): void {
    this.observations.push(observation);
  }
}
