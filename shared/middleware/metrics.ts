import { createLogger } from '../log.ts';
import { safeText } from '../worker/execute.ts';
import { defaultMetricsSink, type EmfDocument, type MetricsSink } from '../worker/metrics.ts';
import type { MiddlewareLikeObj } from './types.ts';

/** What `logMetrics` flushes: anything that holds metrics until told to publish them. */
export interface FlushableMetrics {
  flush(): void;
}

/**
 * The worker's EMF documents held for the invocation: hand `sink` to the runtime, and `flush()`
 * writes what it holds to the real sink (stdout in Lambda) and forgets it, so each document is
 * written once however often it is called.
 */
export class InvocationMetrics implements FlushableMetrics {
  readonly #target: MetricsSink;
  #held: EmfDocument[] = [];
  /** The sink the worker runtime writes to (`metrics` of its options). */
  readonly sink: MetricsSink = (document) => {
    this.#held.push(document);
  };

  /** @param target where flushed documents go. @defaultValue stdout in Lambda, nowhere elsewhere */
  constructor(target: MetricsSink = defaultMetricsSink()) {
    this.#target = target;
  }

  flush(): void {
    const held = this.#held;
    this.#held = [];
    for (const document of held) {
      try {
        this.#target(document);
      } catch (error) {
        // Metrics are never worth an invocation: a write that fails is a warning.
        createLogger({ component: 'metrics' }).warn('could not write metrics', {
          error: safeText((error as Error)?.message),
        });
      }
    }
  }
}

/**
 * Publishes the invocation's metrics when it ends, returned or thrown (Powertools' `logMetrics`):
 * what was counted before a failure is not lost with it.
 *
 * @example
 * const metrics = new InvocationMetrics();
 * const runtime = createWorkerRuntime({ metrics: metrics.sink });
 * export const handler = middy().use(logMetrics(metrics)).handler(work);
 */
export function logMetrics(metrics: FlushableMetrics): MiddlewareLikeObj {
  const flush = (): void => metrics.flush();
  return { after: flush, onError: flush };
}
