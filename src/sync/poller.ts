/**
 * The change feed's poller: asks Stash for scenes updated since the watermark,
 * queues them, and only then moves the watermark (kept in SQLite). A Stash outage therefore
 * skips nothing: the watermark holds and the poller backs off until Stash answers again.
 * Stash stamps updated_at to the second, so each poll overlaps the last by one second and
 * the queue drops what it has already seen.
 */
import type { Logger } from "../log.ts";
import type { StashClient } from "../stash/client.ts";
import type { Store } from "../store/db.ts";
import { backoffMs } from "./backoff.ts";
import type { Queue } from "./queue.ts";

const WATERMARK = "pollWatermark";

export interface PollerDeps {
  store: Store;
  stash: Pick<StashClient, "sceneFilesPage">;
  queue: Queue;
  log: Logger;
  onQueued?: (count: number) => void;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  now?: () => number;
}

/** One second before a Stash timestamp, in Stash's own format. */
const secondBefore = (stamp: string) => new Date(Date.parse(stamp) - 1000).toISOString().replace(/\.\d{3}Z$/, "Z");

export function createPoller(deps: PollerDeps) {
  const { store, queue, log } = deps;
  const now = deps.now ?? Date.now;
  let failures = 0;
  let nextAttemptAt = 0;
  let running = false;

  return {
    get watermark() {
      return store.meta.get(WATERMARK);
    },
    get failures() {
      return failures;
    },
    /** On first start there is nothing to catch up on: begin from now (less a second). */
    initialise(): void {
      if (!store.meta.get(WATERMARK)) store.meta.set(WATERMARK, secondBefore(new Date(now()).toISOString()));
    },
    /** One poll. Returns how many scenes were queued, or null when skipped (backing off). */
    async poll(): Promise<number | null> {
      if (running || now() < nextAttemptAt) return null;
      running = true;
      try {
        this.initialise();
        const watermark = store.meta.get(WATERMARK)!;
        let newest = watermark;
        let queued = 0;
        // One consistent answer, not offset pages: a scene edited while we paged would shift
        // the pages under us and another could be skipped for good. Deltas are slim and small.
        const { items } = await deps.stash.sceneFilesPage(1, -1, secondBefore(watermark));
        queued += queue.enqueue(items.map((s) => ({ sceneId: s.id, stashUpdatedAt: s.updated_at })), "poll");
        for (const s of items) if (Date.parse(s.updated_at) > Date.parse(newest)) newest = s.updated_at;
        // Only now, with every change durably queued, does the watermark move.
        store.meta.set(WATERMARK, newest);
        if (failures) log.info("Stash answers the poller again", { after: failures });
        failures = 0;
        if (queued) deps.onQueued?.(queued);
        return queued;
      } catch (err) {
        failures++;
        const delay = backoffMs(failures + 1, deps.backoffBaseMs ?? 5000, deps.backoffCapMs ?? 300_000);
        nextAttemptAt = now() + delay;
        log.warn("polling Stash failed; the watermark holds", { error: (err as Error).message, retryInMs: delay });
        return null;
      } finally {
        running = false;
      }
    },
  };
}
export type Poller = ReturnType<typeof createPoller>;
