/**
 * When a reconcile asks the engine for a full garbage collection. The engine collects lazily:
 * over a whole library the pages already read would pile up to several times the memory the run
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
