/**
 * Sign-in throttle (pure, with an injectable clock): after `maxFailures` wrong tokens from one
 * client within `windowMs`, that client is refused for `lockMs` whatever it sends (so the
 * right token found by guessing does not get in during the lock either). A success clears the
 * client's count. The table is bounded: a flood of addresses cannot grow it without limit.
 */
export interface ThrottleOptions {
  maxFailures: number;
  windowMs: number;
  lockMs: number;
  now: () => number;
}

export const DEFAULT_THROTTLE: ThrottleOptions = {
  maxFailures: 5,
  windowMs: 60_000,
  lockMs: 5 * 60_000,
  now: Date.now,
};
const MAX_CLIENTS = 10_000;

export function createThrottle(options: Partial<ThrottleOptions> = {}) {
  const o = { ...DEFAULT_THROTTLE, ...options };
  const clients = new Map<string, { failures: number[]; lockedUntil: number }>();

  const prune = (at: number) => {
    for (const [client, c] of clients) {
      if (c.lockedUntil <= at && c.failures.every((t) => at - t >= o.windowMs)) clients.delete(client);
    }
    // Still full (a flood of fresh addresses): forget the oldest entries rather than grow.
    for (const client of clients.keys()) {
      if (clients.size < MAX_CLIENTS) break;
      clients.delete(client);
    }
  };

  return {
    /** Seconds this client must wait before trying again, or 0. */
    retryAfter(client: string): number {
      const at = o.now();
      const c = clients.get(client);
      return c && c.lockedUntil > at ? Math.ceil((c.lockedUntil - at) / 1000) : 0;
    },
    /** Records a wrong token; returns the failures counted in the window (locking at the limit). */
    failed(client: string): number {
      const at = o.now();
      if (!clients.has(client) && clients.size >= MAX_CLIENTS) prune(at);
      const c = clients.get(client) ?? { failures: [], lockedUntil: 0 };
      c.failures = [...c.failures.filter((t) => at - t < o.windowMs), at];
      if (c.failures.length >= o.maxFailures) {
        c.lockedUntil = at + o.lockMs;
        c.failures = [];
        clients.set(client, c);
        return o.maxFailures;
      }
      clients.set(client, c);
      return c.failures.length;
    },
    succeeded: (client: string) => void clients.delete(client),
  };
}
export type Throttle = ReturnType<typeof createThrottle>;
