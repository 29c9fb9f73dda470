interface MiddlewareClient {
  middlewareStack: {
    add(
      middleware: (
        next: (args: unknown) => Promise<unknown>,
        context: { commandName?: string },
      ) => (args: unknown) => Promise<unknown>,
      options: { step: 'finalizeRequest'; name: string; priority: 'low'; override?: boolean },
    ): void;
  };
}

/**
 * Counts the HTTP requests an SDK client sends, by operation. It sits at the finalize step, so a
 * request the SDK retries counts once per attempt, as AWS bills it.
 */
export class RequestCounter {
  readonly #counts = new Map<string, number>();

  attach<C>(client: C): C {
    (client as unknown as MiddlewareClient).middlewareStack.add(
      (next, context) => async (args) => {
        const operation = context.commandName?.replace(/Command$/, '') ?? 'unknown';
        this.#counts.set(operation, (this.#counts.get(operation) ?? 0) + 1);
        return next(args);
      },
      // Low priority puts it inside the retry middleware: each attempt is counted.
      { step: 'finalizeRequest', name: 'celerityRequestCounter', priority: 'low', override: true },
    );
    return client;
  }

  get total(): number {
    let sum = 0;
    for (const count of this.#counts.values()) sum += count;
    return sum;
  }

  snapshot(): Record<string, number> {
    return Object.fromEntries([...this.#counts.entries()].sort(([a], [b]) => a.localeCompare(b)));
  }

  reset(): void {
    this.#counts.clear();
  }
}
