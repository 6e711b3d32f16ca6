/**
 * Coalesces lookups by key that arrive within a short window into one bulk load: under a
 * PMS scan, dozens of metadata requests for different scenes arrive together and become a
 * single `findScenes(ids:)` query. Concurrent lookups of the same key share one promise.
 */
export interface BatcherOptions<K, V> {
  windowMs: number;
  maxBatch: number;
  load(keys: K[]): Promise<Map<K, V>>;
}

export function createBatcher<K, V>(options: BatcherOptions<K, V>) {
  let pending = new Map<K, PromiseWithResolvers<V | undefined>>();
  let timer: ReturnType<typeof setTimeout> | undefined;

  const flush = () => {
    timer = undefined;
    const batch = pending;
    pending = new Map();
    const keys = [...batch.keys()];
    options.load(keys).then(
      (found) => batch.forEach((waiter, key) => waiter.resolve(found.get(key))),
      (err) => batch.forEach((waiter) => waiter.reject(err)),
    );
  };

  return {
    load(key: K): Promise<V | undefined> {
      const existing = pending.get(key);
      if (existing) return existing.promise;
      const waiter = Promise.withResolvers<V | undefined>();
      pending.set(key, waiter);
      if (pending.size >= options.maxBatch) {
        clearTimeout(timer);
        flush();
      } else timer ??= setTimeout(flush, options.windowMs);
      return waiter.promise;
    },
  };
}
