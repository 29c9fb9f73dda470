import type { QueueTarget } from '../config/config.ts';
import { recordableId } from '../envelope/codec.ts';
import type { Envelope } from '../envelope/schema.ts';
import { envelopeSchema } from '../envelope/schema.ts';
import { fromZodIssues } from '../errors.ts';
import { CeleryMessageError } from './errors.ts';
import { readKombuMessage } from './kombu.ts';
import { CELERY_FIELDS, celeryEnvelopeInput } from './protocol.ts';

/** Where a record arrived: the queue its event source ARN names becomes the envelope's `queue`. */
export interface ArrivedOn {
  arn: string | undefined;
  queues: Record<string, QueueTarget>;
}

/**
 * The worker's door for Celery producers: an SQS body in kombu's format becomes a validated
 * envelope; any other body is `undefined`, for the envelope decoder. A Celery message the worker
 * cannot honour throws a `CeleryMessageError` (an `EnvelopeError`) carrying the id and task name
 * its headers hold, so the refusal is recorded where the Celery client looks for the result.
 */
export function decodeCeleryMessage(sqsBody: string, arrived?: ArrivedOn): Envelope | undefined {
  const message = readKombuMessage(sqsBody);
  if (message === undefined) return undefined;
  const queue = arrived
    ? Object.entries(arrived.queues).find(([, target]) => target.arn === arrived.arn)?.[0]
    : undefined;
  const input = celeryEnvelopeInput(message, queue);
  const parsed = envelopeSchema.safeParse(input);
  if (parsed.success) return parsed.data;
  const invalid = fromZodIssues('', parsed.error.issues.flatMap(asCeleryIssues));
  const taskId = recordableId(input.id);
  throw new CeleryMessageError(
    `invalid Celery message: ${invalid.message}`,
    { ...(taskId ? { taskId } : {}), taskName: input.task },
    { cause: invalid },
  );
}

type Issue = { path: readonly PropertyKey[]; message: string; code?: string; keys?: readonly string[] };

/** An envelope issue named by the Celery field it came from (`headers.eta`), one per unknown key. */
function asCeleryIssues(issue: Issue): { path: PropertyKey[]; message: string }[] {
  const paths =
    issue.code === 'unrecognized_keys' && issue.keys
      ? issue.keys.map((key) => [...issue.path, key])
      : [[...issue.path]];
  return paths.map(([first, ...rest]) => ({
    path: first === undefined ? ['message'] : [CELERY_FIELDS[String(first)] ?? String(first), ...rest],
    message: issue.code === 'unrecognized_keys' ? 'is not a field this worker takes' : issue.message,
  }));
}
