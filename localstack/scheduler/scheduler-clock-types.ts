import type { SchedulerClient } from '@aws-sdk/client-scheduler';
import type { SQSClient } from '@aws-sdk/client-sqs';
import type { Logger } from '../../shared/log.ts';
import type { DeliveryResult } from './scheduler-delivery.ts';

/** One run of a schedule, as the benchmark and the logs see it. */
export interface ClockFire {
  name: string;
  group: string;
  scheduleArn: string;
  executionId: string;
  /** The run's due time: what `<aws.scheduler.scheduled-time>` says. */
  scheduledTime: Date;
  /** When the clock sent the first attempt (ms since the epoch). */
  firedAt: number;
  /** `firedAt` minus the due time. */
  delayMs: number;
  /** When the delivery ended (accepted, dead-lettered or given up). */
  settledAt: number;
  outcome: DeliveryResult['outcome'];
  messageId?: string;
  attempts: number;
  error?: string;
}

export interface SchedulerClockStats {
  refreshes: number;
  refreshErrors: number;
  /** Schedules seen at the last refresh. */
  schedules: number;
  /** Of those, the ones that cannot run: a bad expression, time zone or target. */
  invalid: number;
  fired: number;
  delivered: number;
  deadLettered: number;
  failed: number;
  /** Runs whose retries were cut short by `stop()`. */
  stopped: number;
  /** Schedules deleted after their last run (`ActionAfterCompletion: DELETE`). */
  deleted: number;
  maxDelayMs: number;
  totalDelayMs: number;
  inFlight: number;
}

export interface SchedulerClockOptions {
  scheduler: SchedulerClient;
  sqs: SQSClient;
  /** A queue's URL from its ARN (the local cloud's resources); else GetQueueUrl by the ARN's name. */
  resolveQueueUrl?: (arn: string) => string | undefined | Promise<string | undefined>;
  /** Watch only these schedule groups. @defaultValue every group */
  groups?: string[];
  /** How often schedules are read again. @defaultValue 2000 */
  refreshIntervalMs?: number;
  /** First delay between attempts on a failing target, doubled each time. @defaultValue 1000 */
  retryBaseDelayMs?: number;
  /** @defaultValue 60000 */
  retryMaxDelayMs?: number;
  onFire?: (fire: ClockFire) => void;
  /** @defaultValue a JSON logger with `component: 'scheduler-clock'` */
  logger?: Logger;
}
