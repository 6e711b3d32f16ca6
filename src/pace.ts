/**
 * Long synchronous stretches (building an index, writing thousands of links, looking at every
 * Plex item) stall the event loop: /healthz and PMS's match requests wait behind them. Such a
 * loop awaits `pace()` between its steps; it hands the event loop back (a macrotask, so timers
 * and I/O run) once SLICE_MS have passed since the last hand-back, and is a resolved promise
 * otherwise. One clock for the process: loops running at once (a start's index builds) share it,
 * so together they hold the loop no longer than one would. Counting by time rather than by steps
 * keeps it right whatever a step costs (a link on a slow disk, a page of 1,000 scenes).
 */
import { heapCollector } from "./collector.ts";

const SLICE_MS = 20;
let since = performance.now();

export async function pace(): Promise<void> {
  if (performance.now() - since < SLICE_MS) return;
  await new Promise<void>((resolve) => setImmediate(resolve));
  heapCollector.page();
  since = performance.now();
}

/** `work` on each of `items` in slices of at most `size`, paced between slices. */
export async function paced<T>(items: readonly T[], size: number, work: (slice: T[]) => void): Promise<void> {
  for (let i = 0; i < items.length; i += size) {
    await pace();
    work(items.slice(i, i + size));
  }
}

/**
 * Work written once as a generator that yields between its steps, run two ways: `runNow` to its
 * end at once (small work: one scene's update, which callers need synchronously), `runPaced`
 * handing the event loop back as `pace` does (the same work over a whole library).
 */
export function runNow<T>(steps: Generator<unknown, T>): T {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
  }
}
export async function runPaced<T>(steps: Generator<unknown, T>, pause: () => Promise<void> = pace): Promise<T> {
  for (;;) {
    const step = steps.next();
    if (step.done) return step.value;
    await pause();
  }
}
