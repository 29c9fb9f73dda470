import type { SQSRecord } from 'aws-lambda';
import type { Envelope } from '../envelope/schema.ts';
import { ValidationError } from '../errors.ts';
import type { RegisteredTask } from '../task/registry.ts';
import { type DecodeContext, decodeRecord, type Rejected, reject } from './decode.ts';
import { admitPeriodic } from './periodic.ts';

/** An eta this close is run now: SQS's delay is whole seconds and clocks differ a little. */
const ETA_TOLERANCE_MS = 1000;

/** What one record of a batch comes to before anything is claimed. */
export type Admission =
  /** Not to be run: poison, or refused on reading (a zone that does not exist, an absurd expansion). */
  | { kind: 'rejected'; rejected: Rejected }
  /** A periodic tick on a day Celery would not run: nothing runs, nothing is recorded. */
  | { kind: 'skip'; envelope: Envelope }
  | {
      kind: 'admitted';
      envelope: Envelope;
      task: RegisteredTask;
      /** The rest of a sub-minute interval's runs, to send with their delays. */
      later: { envelope: Envelope; delaySeconds: number }[];
      /** Seconds still to wait for its eta (the message is sent again with that delay), or 0. */
      waitSeconds: number;
    };

/**
 * Decodes and reads one record: envelope, route, task, args, a periodic run's day guard and
 * expansion, its eta. Whatever it throws, for whatever reason, is this record's rejection alone.
 */
export function admitRecord(record: SQSRecord, context: DecodeContext): Admission {
  const decoded = decodeRecord(record, context);
  if (!('envelope' in decoded)) return { kind: 'rejected', rejected: decoded };
  try {
    const admission = admitPeriodic(decoded.envelope, context.now);
    if (admission.kind === 'skip') return { kind: 'skip', envelope: decoded.envelope };
    const { envelope } = admission;
    const etaMs = envelope.eta ? Date.parse(envelope.eta) - context.now : 0;
    if (!Number.isFinite(etaMs)) throw ValidationError.of('envelope.eta', 'is not a time that can be read');
    return {
      kind: 'admitted',
      envelope,
      task: decoded.task,
      later: admission.later,
      waitSeconds: etaMs >= ETA_TOLERANCE_MS ? Math.ceil(etaMs / 1000) : 0,
    };
  } catch (error) {
    return {
      kind: 'rejected',
      rejected: reject(record, error, decoded.envelope.id, decoded.envelope.task, context),
    };
  }
}
