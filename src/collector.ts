/**
 * When a long job asks the engine for a full garbage collection. The engine collects lazily:
 * over a whole library the pages already read would pile up to several times the memory the job
 * needs. A full collection costs in proportion to the live heap, so it runs once the heap has
 * grown by `growth` bytes since the last one, not every few pages (which, with a live heap that
 * grew with the library, made the total cost quadratic).
 */
export function createCollector(growth = 48 * 1024 * 1024, heapUsed = () => process.memoryUsage().heapUsed) {
  let floor = heapUsed();
  return {
    /** After a page was read: collects if the heap grew by `growth` since the last collection. */
    page() {
      if (heapUsed() - floor < growth) return false;
      Bun.gc(true);
      floor = heapUsed();
      return true;
    },
  };
}

/**
 * The process's own: every page read (paging.ts) and every hand-back of a long loop (pace.ts)
 * lets it look, so no job (a start's index builds, the episode folder, the Plex index's look at
 * every item, a reconcile) lets garbage pile up. The engine never moves what survives: a heap
 * that once grew to a GB kept ~100 MB of half-empty blocks afterwards (issue 26, bench/heap-probe.ts).
 */
export const heapCollector = createCollector();
