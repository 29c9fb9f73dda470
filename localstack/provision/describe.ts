/**
 * The template's functions and event source mappings, read for their settings and never created:
 * the local cloud runs the functions in-process and feeds them with its own pollers, with these
 * settings (timeout, memory, batch size and window, maximum concurrency, filters, retries ...).
 */
import type { FilterCriteria } from '../event-sources/event-filter.ts';
import type { LocalEventSourceMapping, LocalFunction, LocalResources } from './resources.ts';
import { type CfnResource, type ResolveContext, TemplateError } from './template.ts';

/** Lambda's defaults where the template says nothing. */
const DEFAULT_LAMBDA_TIMEOUT_SECONDS = 3;
const DEFAULT_LAMBDA_MEMORY_MB = 128;

export function str(value: unknown): string | undefined {
  return value === undefined || value === null ? undefined : String(value);
}

export function describeFunction(
  id: string,
  r: CfnResource,
  p: Record<string, unknown>,
  ctx: ResolveContext,
): LocalFunction {
  const physical = ctx.physical(id);
  const variables = ((p.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ??
    {}) as Record<string, unknown>;
  const entry = str(r.Metadata?.['celerity:entry']);
  const handler = str(r.Metadata?.['celerity:handler']) ?? str(p.Handler)?.split('.').pop();
  return {
    logicalId: id,
    name: physical.ref,
    arn: physical.attributes.Arn as string,
    ...(entry ? { entry } : {}),
    ...(handler ? { handler } : {}),
    timeoutSeconds: Number(p.Timeout ?? DEFAULT_LAMBDA_TIMEOUT_SECONDS),
    memoryMb: Number(p.MemorySize ?? DEFAULT_LAMBDA_MEMORY_MB),
    environment: Object.fromEntries(Object.entries(variables).map(([key, value]) => [key, String(value)])),
  };
}

export function describeMapping(
  id: string,
  p: Record<string, unknown>,
  out: LocalResources,
): LocalEventSourceMapping {
  const eventSourceArn = String(p.EventSourceArn);
  const target = String(p.FunctionName);
  const fn = Object.values(out.functions).find((f) => f.name === target || f.arn === target);
  if (!fn) throw new TemplateError(`${id}: FunctionName ${target} is not a function of the template`);
  const queue = Object.values(out.queues).find((q) => q.arn === eventSourceArn);
  const table = Object.values(out.tables).find(
    (t) => t.streamArn !== undefined && t.streamArn === eventSourceArn,
  );
  const scaling = p.ScalingConfig as { MaximumConcurrency?: unknown } | undefined;
  const destination = str(
    (p.DestinationConfig as { OnFailure?: { Destination?: unknown } } | undefined)?.OnFailure?.Destination,
  );
  const destinationQueue = destination
    ? Object.values(out.queues).find((q) => q.arn === destination)
    : undefined;
  const number = (key: string) => (p[key] === undefined ? undefined : Number(p[key]));
  const retries = number('MaximumRetryAttempts');
  const maxAge = number('MaximumRecordAgeInSeconds');
  const bisect = p.BisectBatchOnFunctionError;
  return {
    logicalId: id,
    eventSourceArn,
    ...(queue ? { queueLogicalId: queue.logicalId } : {}),
    ...(table ? { tableLogicalId: table.logicalId } : {}),
    functionLogicalId: fn.logicalId,
    batchSize: number('BatchSize') ?? (table ? 100 : 10),
    maximumBatchingWindowSeconds: number('MaximumBatchingWindowInSeconds') ?? 0,
    ...(scaling?.MaximumConcurrency !== undefined
      ? { maximumConcurrency: Number(scaling.MaximumConcurrency) }
      : {}),
    functionResponseTypes: ((p.FunctionResponseTypes as unknown[] | undefined) ?? []).map(String),
    enabled: p.Enabled === undefined ? true : p.Enabled === true || p.Enabled === 'true',
    ...(p.StartingPosition !== undefined ? { startingPosition: String(p.StartingPosition) } : {}),
    ...(p.FilterCriteria !== undefined ? { filterCriteria: p.FilterCriteria as FilterCriteria } : {}),
    ...(bisect !== undefined ? { bisectBatchOnFunctionError: bisect === true || bisect === 'true' } : {}),
    ...(retries !== undefined ? { maximumRetryAttempts: retries } : {}),
    ...(maxAge !== undefined ? { maximumRecordAgeSeconds: maxAge } : {}),
    ...(destination
      ? {
          onFailure: {
            destination,
            ...(destinationQueue ? { queueLogicalId: destinationQueue.logicalId } : {}),
          },
        }
      : {}),
  };
}
