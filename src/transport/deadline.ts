/** A remote call that did not answer in time: names what was waited for and for how long. */
export class DeadlineError extends Error {
  override name = 'DeadlineError';
}

/** The promise's outcome, or a DeadlineError after `ms` (the call itself is left to its connection's fate). */
export function withDeadline<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DeadlineError(`${what} did not answer within ${formatSeconds(ms)}`)),
      ms,
    );
    timer.unref();
  });
  return Promise.race([promise, deadline]).finally(() => clearTimeout(timer));
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000} s` : `${(ms / 1000).toFixed(1)} s`;
}

/**
 * Every Engine API call made through this client (and through the objects it hands out: getNode(...),
 * getContainer(...)) gets a deadline, so one wedged dockerd cannot hang a run.
 */
export function withApiDeadline<T extends object>(client: T, ms: number, what: string): T {
  return new Proxy(client, {
    get(target, prop, receiver) {
      const value = Reflect.get(target, prop, receiver) as unknown;
      if (typeof value !== 'function' || prop === 'constructor') return value;
      return (...args: unknown[]) => {
        const result = (value as (...a: unknown[]) => unknown).apply(target, args);
        if (result instanceof Promise) return withDeadline(result, ms, `${what}: ${String(prop)}`);
        // An object with methods of its own (a node, a container): its calls get the deadline too.
        if (result && typeof result === 'object' && !(result as { pipe?: unknown }).pipe)
          return withApiDeadline(result as object, ms, what);
        return result;
      };
    },
  });
}
