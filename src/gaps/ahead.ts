/**
 * Pages read one ahead: the next page is asked for while this one is compared, so Plex or
 * Stash answers while the reconcile works instead of each waiting for the other. One page more
 * is held at a time; the pages come in the same order.
 */
export async function* oneAhead<T>(source: AsyncIterable<T>): AsyncGenerator<T> {
  const it = source[Symbol.asyncIterator]();
  let next = it.next();
  try {
    for (;;) {
      const r = await next;
      if (r.done) return;
      next = it.next();
      // Left unawaited when the run stops early: its failure is not an unhandled rejection then.
      next.catch(() => {});
      yield r.value;
    }
  } finally {
    await it.return?.();
  }
}
