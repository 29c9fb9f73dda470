import { createHash } from 'node:crypto';
import { GetCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { getAwsClients, isAwsError } from '../../shared/aws/index.ts';
import * as z from '../../shared/schema.ts';
import { defineTask, MAX_TIME_LIMIT_SECONDS, Reject } from '../../shared/task/index.ts';
import { StudyContinuesError } from './errors.ts';
import type { Study } from './model.ts';
import { labControlSettings } from './settings.ts';

/** Bytes of one chunk of a study's file. */
export const CHUNK_BYTES = 1 << 20;

/**
 * `process_large_file(study_id)`, on the `heavy` queue. Celery gave it 30 minutes; one Lambda
 * invocation has at most 15, so the file is processed in chunks with a checkpoint after each
 * (`processedChunks` and a running checksum on the study). At the soft limit the run stops
 * between chunks and retries itself at once under the same task id, so the caller's
 * `AsyncResult` sees RETRY and then one SUCCESS for the whole file, however many invocations it
 * took. Every checkpoint is conditional on the one before, so two runs of one study never
 * process a chunk twice: the one that loses stops.
 */
export const processLargeFile = defineTask(
  'apps.studies.tasks.process_large_file',
  async (ctx, studyId: string) => {
    const { studiesTable: table } = labControlSettings();
    const { dynamo } = getAwsClients();
    const { Item } = await dynamo.send(
      new GetCommand({ TableName: table, Key: { studyId }, ConsistentRead: true }),
    );
    const study = Item as Study | undefined;
    if (!study) throw new Reject(`study ${studyId} does not exist`);
    if (study.status === 'done') return summary(study);

    let done = study.processedChunks ?? 0;
    let checksum = study.checksum ?? '';
    const startedWith = done;
    while (done < study.totalChunks) {
      if (ctx.signal.aborted) {
        // A run that could not finish one chunk would only loop: fail instead.
        if (done === startedWith) throw new Error(`study ${studyId}: no chunk fits in one run`);
        ctx.retry({
          countdown: 0,
          exc: new StudyContinuesError(studyId, done, study.totalChunks),
          // A continuation is progress, not a failure: it must not use up the retries of real errors.
          maxRetries: ctx.request.retries + 1,
        });
      }
      checksum = foldChunk(checksum, studyId, done);
      const last = done + 1 === study.totalChunks;
      try {
        await dynamo.send(
          new UpdateCommand({
            TableName: table,
            Key: { studyId },
            UpdateExpression: `SET processedChunks = :next, checksum = :sum, #status = :status, updatedAt = :now${last ? ', completedAt = :now' : ''}`,
            ConditionExpression:
              done === 0
                ? 'attribute_not_exists(processedChunks) OR processedChunks = :done'
                : 'processedChunks = :done',
            ExpressionAttributeNames: { '#status': 'status' },
            ExpressionAttributeValues: {
              ':done': done,
              ':next': done + 1,
              ':sum': checksum,
              ':status': last ? 'done' : 'processing',
              ':now': new Date().toISOString(),
            },
          }),
        );
      } catch (error) {
        if (isAwsError(error, 'ConditionalCheckFailedException')) {
          return `Study ${studyId}: another run is processing it (this one stopped at chunk ${done})`;
        }
        throw error;
      }
      done++;
    }
    return summary({ ...study, processedChunks: done, checksum });
  },
  {
    argsSchema: z.tuple([z.string().check(z.minLength(1))]),
    timeLimit: MAX_TIME_LIMIT_SECONDS,
    softTimeLimit: MAX_TIME_LIMIT_SECONDS - 60,
    maxRetries: 3,
    retryBackoff: true,
  },
);

function summary(study: Study): string {
  return `Processed study ${study.studyId}: ${study.processedChunks} chunks, sha256 ${study.checksum?.slice(0, 16)}`;
}

/**
 * The work on one chunk: its bytes (here made up from the study and chunk number, where the app
 * would read them from S3) hashed into the running checksum. CPU-bound like real parsing, and
 * deterministic, so a run that resumes from a checkpoint reaches the same checksum.
 */
function foldChunk(previous: string, studyId: string, index: number): string {
  const seed = createHash('sha256').update(`${studyId}:${index}`).digest();
  const bytes = Buffer.alloc(CHUNK_BYTES);
  for (let offset = 0; offset < CHUNK_BYTES; offset += seed.length) seed.copy(bytes, offset);
  const chunkDigest = createHash('sha256').update(bytes).digest('hex');
  return createHash('sha256').update(previous).update(chunkDigest).digest('hex');
}
