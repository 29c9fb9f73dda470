/**
 * A function's entry loaded in-process as Lambda loads it into a container: imported (a fresh
 * instance per function) with the function's environment, its configuration and its clients in
 * place, so what the entry builds at import (its runtime, its middlewares, its logger) is what it
 * would build on Lambda. Used for the SQS workers (`functions/worker.ts`) and the stream mappings.
 */
import type { Context } from 'aws-lambda';
import { type AwsClients, getAwsClients, resetAwsClients, useAwsClients } from '../../shared/aws/clients.ts';
import { configure, functionConfig, withConfig } from '../../shared/config/config.ts';
import { EntryLoadError } from '../errors.ts';
import type { LocalFunction } from '../provision/provision.ts';

/** Sets (or, for `undefined`, removes) process variables; returns what they were, to put back. */
export function applyEnv(values: Record<string, string | undefined>): Record<string, string | undefined> {
  const previous: Record<string, string | undefined> = {};
  for (const [key, value] of Object.entries(values)) {
    previous[key] = process.env[key];
    if (value === undefined) delete process.env[key];
    else process.env[key] = value;
  }
  return previous;
}

/** A loaded entry: its handler, and the clients it got from `getAwsClients()` at import. */
export interface LoadedEntry<H> {
  handler: H;
  clients: AwsClients;
}

let loads = 0;

/**
 * Imports `fn.entry` and returns its exported handler. For the import's duration the process
 * environment is the function's (`env`: its template environment, where AWS is, its log level),
 * `getConfig()` answers the function's configuration (`functionConfig`: its environment and the
 * app's handed-on settings, and nothing else of this process's), and `getAwsClients()` answers
 * `clients` when given (the local cloud's own, counted and fenced) or clients made from that
 * environment. All three are put back afterwards. Each load is a fresh instance of the entry
 * module (its own runtime and metrics, as a container of that function has); the modules it
 * imports are the process's, as the app's tasks are registered once.
 *
 * Load every entry before any poller runs: the process environment is the function's meanwhile.
 */
export async function loadEntry<H>(
  fn: LocalFunction,
  env: Record<string, string>,
  clients?: AwsClients,
): Promise<LoadedEntry<H>> {
  if (!fn.entry) throw new EntryLoadError(fn.logicalId, 'it has no celerity:entry metadata to load it from');
  const url = new URL(`../../${fn.entry}`, import.meta.url);
  url.searchParams.set('local-cloud', String(++loads));
  const previous = applyEnv(env);
  let module: Record<string, unknown>;
  let given: AwsClients;
  try {
    resetAwsClients();
    if (clients) useAwsClients(clients);
    // The clients the entry gets from getAwsClients() at import: made (or set) here to hand back.
    given = getAwsClients();
    module = await withConfig(functionConfig(fn.environment), () => import(url.href));
  } catch (error) {
    throw new EntryLoadError(fn.logicalId, `could not load ${fn.entry}: ${(error as Error).message}`, error);
  } finally {
    applyEnv(previous);
    resetAwsClients();
    // Re-reads the process's environment while keeping the app's configure() calls.
    configure({});
  }
  const name = fn.handler ?? 'handler';
  const handler = module[name];
  if (typeof handler !== 'function') {
    throw new EntryLoadError(fn.logicalId, `${fn.entry} exports no function named ${name}`);
  }
  return { handler: ((event: never, context: Context) => handler(event, context)) as H, clients: given };
}
