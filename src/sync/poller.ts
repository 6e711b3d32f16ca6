/**
 * The change feed's poller: asks Stash for scenes changed since the last poll, queues them,
 * and only then moves its bookmarks (kept in SQLite). A Stash outage skips nothing: the
 * bookmarks hold and the poller backs off until Stash answers again.
 *
 * It works in Stash's own terms (see stash/stamps.ts): stamps are local wall-clock strings
 * compared as TEXT, so the watermark is the greatest stamp Stash has shown us, exactly as
 * Stash wrote it, never a UTC instant. Each poll makes these reads:
 *  1. above the watermark: every edit in the usual case (within one offset, text order is
 *     time order).
 *  2. the watermark's own second, while it may still have been open when we last read: Stash
 *     stamps to the second, so an edit later in that second carries the very same stamp. While
 *     it is open, a count of that stamp against the scenes we know at it says whether others
 *     took it (one row, not a second's worth of edits). At the first poll after it surely
 *     closed, its scenes are read once more, all of them: a scene we know at that stamp may
 *     have been edited again within it (no count tells that), and the queue pushes it again
 *     unless its push read Stash after the second ended (queue.ts). Found by the chaos soak: a
 *     second edit within the second of the first, after PMS fetched the first, was never pushed.
 *  3. the repeated hour: after a DST switch back (−04:00 → −05:00) new stamps sort up to an
 *     hour BELOW the watermark. A band one hour below "now" in the watermark's offset, from the
 *     last poll to this one, finds them; it costs what was edited an hour ago in the same span
 *     (so in steady state a poll reads about twice what changed).
 *  4. a sweep, every 15 minutes: everything stamped since the last sweep at ANY offset
 *     (−12:00 … +14:00), kept only if its instant is newer than that sweep. It catches what
 *     1–3 cannot: a TZ setting moved west by hours, a clock skew larger than a second, and
 *     changes left behind by an older version's UTC watermark.
 * Queueing is idempotent (the queue drops what it has already delivered, queued or buried at
 * that stamp), so the overlaps cost reads, never pushes.
 */
import type { Logger } from "../log.ts";
import type { StashClient } from "../stash/client.ts";
import { instantOf, offsetOf, secondOf, stampAt, textMax, wallClock } from "../stash/stamps.ts";
import type { StashSceneFiles } from "../schema/stash.ts";
import type { Store } from "../store/db.ts";
import { backoffMs } from "./backoff.ts";
import type { Queue } from "./queue.ts";
import { DEFAULT_INSTANCE_ID, sceneRef } from "../domain/ref.ts";

/**
 * The bookmarks' keys in `meta`, one set per Stash instance: `pollWatermark:default`. (Before
 * instances they had no suffix; store/db.ts migration 6 gave them the default instance's.)
 */
const keysOf = (instance: string) => ({
  watermark: `pollWatermark:${instance}`,
  atWatermark: `pollScenesAtWatermark:${instance}`,
  cursor: `pollCursor:${instance}`,
  sweptAt: `pollSweptAt:${instance}`,
  nextSweepAt: `pollNextSweepAt:${instance}`,
  scheme: `pollScheme:${instance}`,
});
/** Bookmarks written before this scheme were UTC instants, which Stash's text order misreads. */
const SCHEME = "stash-text-order";

/** Clock difference between us and Stash that the repeated-hour band absorbs (more: the sweep). */
const SKEW_MS = 1000;
/** A DST switch back repeats this much wall clock. */
const DST_MINUTES = 60;
export const SWEEP_EVERY_MS = 15 * 60_000;
/** The sweep keeps stamps this much older than the last sweep too (clock skew, slow commits). */
const SWEEP_SLACK_MS = 5 * 60_000;
/** The westmost offset in use anywhere: the earliest wall clock a stamp of a given instant can have. */
const WESTMOST_OFFSET = -12 * 60;
/** A stamp this far ahead of our clock (a Stash clock that was once wrong) does not move the watermark. */
const FUTURE_MS = 10 * 60_000;
const KEEP_REPORTS = 500;

export interface PollReport {
  /** When the poll's reads finished (ms). */
  at: number;
  /** Scenes Stash returned to the regular reads (1 and 2 above). */
  read: number;
  /** Scenes Stash returned to the sweep, before it kept those newer than the last sweep (0: none due). */
  swept: number;
  queued: number;
}

export interface PollerDeps {
  store: Store;
  /** The Stash instance polled (its own bookmarks, its own references); default: the default instance. */
  instance?: string;
  stash: Pick<StashClient, "scenesStampedBetween" | "scenesStampedAt" | "newestStamp">;
  queue: Queue;
  log: Logger;
  onQueued?: (count: number) => void;
  backoffBaseMs?: number;
  backoffCapMs?: number;
  now?: () => number;
}

export function createPoller(deps: PollerDeps) {
  const { store, queue, log, stash } = deps;
  const now = deps.now ?? Date.now;
  const meta = store.meta;
  const instance = deps.instance ?? DEFAULT_INSTANCE_ID;
  const KEY = keysOf(instance);
  let failures = 0;
  let nextAttemptAt = 0;
  let running = false;
  const reports: PollReport[] = [];
  let totals = { polls: 0, read: 0, swept: 0 };

  /**
   * First start: begin at the greatest stamp Stash has now (nothing before it is news). After
   * an upgrade from UTC bookmarks: the same, and the first sweep reaches back to the old
   * bookmark so a change made since then at any offset is still queued.
   */
  async function initialise(): Promise<void> {
    if (meta.get(KEY.scheme) === SCHEME) return;
    const t = now();
    const newest = await stash.newestStamp();
    let watermark = newest ?? "";
    if (newest && instantOf(newest) > t + FUTURE_MS) watermark = stampAt(t, offsetOf(newest) ?? 0);
    const previous = instantOf(meta.get(KEY.watermark) ?? "");
    const upgrading = Number.isFinite(previous);
    store.db.transaction(() => {
      meta.set(KEY.watermark, watermark);
      meta.set(KEY.atWatermark, "[]");
      meta.set(KEY.cursor, String(t));
      meta.set(KEY.sweptAt, String(upgrading ? Math.min(previous, t) : t));
      meta.set(KEY.nextSweepAt, String(upgrading ? t : t + SWEEP_EVERY_MS));
      meta.set(KEY.scheme, SCHEME);
    })();
  }

  /** Reads 1–4 of the header. `read` counts the rows Stash returned to 1–3. */
  async function readChanges(t: number, watermark: string) {
    const above = await stash.scenesStampedBetween(watermark);
    let read = above.length;
    // 2. Scenes we know at the watermark's stamp, less those that moved above it since.
    const moved = new Set(above.map((s) => s.id));
    const known = (JSON.parse(meta.get(KEY.atWatermark) ?? "[]") as string[]).filter((id) => !moved.has(id));
    let sameSecond: StashSceneFiles[] = [];
    const cursor = Number(meta.get(KEY.cursor));
    const closesAt = instantOf(watermark) + 1000 + SKEW_MS;
    if (watermark && !(cursor >= closesAt)) {
      // While the second is open, a count says whether scenes we do not know took its stamp; once it
      // has surely closed, one last read of all of them (a known scene edited again within it).
      const probe = t >= closesAt ? undefined : await stash.scenesStampedAt(watermark, 1);
      read += probe?.items.length ?? 0;
      if (!probe || probe.count > known.length) {
        sameSecond = (await stash.scenesStampedAt(watermark, -1)).items;
        read += sameSecond.length;
      }
    }
    // 3. The repeated hour: one hour west of the watermark's offset, from the last poll to now.
    const floor = secondOf(watermark);
    const westOffset = (offsetOf(watermark) ?? 0) - DST_MINUTES;
    // Bands tile: each starts where the last ended and trails now by SKEW_MS, so a Stash clock
    // up to that much behind ours loses nothing, and one ahead lands in the next band.
    const bandLow = wallClock(cursor - SKEW_MS, westOffset);
    const bandHigh = wallClock(t - SKEW_MS, westOffset);
    const bandTop = bandHigh < floor ? bandHigh : floor;
    const repeated = bandLow < bandTop ? await stash.scenesStampedBetween(bandLow, bandTop) : [];
    read += repeated.length;
    // 4. The sweep.
    let swept: StashSceneFiles[] | undefined;
    let sweepRead = 0;
    if (t >= Number(meta.get(KEY.nextSweepAt))) {
      const since = Number(meta.get(KEY.sweptAt)) - SWEEP_SLACK_MS;
      const rows = await stash.scenesStampedBetween(wallClock(since, WESTMOST_OFFSET));
      sweepRead = rows.length;
      swept = rows.filter((s) => instantOf(s.updated_at) > since);
    }
    return {
      changes: [...above, ...sameSecond, ...repeated, ...(swept ?? [])],
      above,
      known,
      sameSecond,
      read,
      swept,
      sweepRead,
    };
  }

  /** The new watermark (greatest stamp seen, unless implausibly far ahead) and the scenes stamped exactly that. */
  function nextWatermark(t: number, watermark: string, seen: StashSceneFiles[], known: string[]) {
    let newest = watermark;
    for (const s of seen) if (instantOf(s.updated_at) <= t + FUTURE_MS) newest = textMax(newest, s.updated_at);
    const atNewest = new Set(newest === watermark ? known : []);
    for (const s of seen) if (s.updated_at === newest) atNewest.add(s.id);
    return { newest, atNewest: [...atNewest] };
  }

  return {
    get watermark() {
      return meta.get(KEY.watermark);
    },
    get failures() {
      return failures;
    },
    /** The last polls' costs, oldest first (for the status page and the benchmark). */
    get recentPolls(): readonly PollReport[] {
      return reports;
    },
    get totals() {
      return { ...totals };
    },
    initialise,
    /** Stash is known to answer again (the push side's probe): the next poll does not wait out its backoff. */
    retryNow() {
      nextAttemptAt = 0;
    },
    /** One poll. Returns how many scenes were queued, or null when skipped (backing off). */
    async poll(): Promise<number | null> {
      if (running || now() < nextAttemptAt) return null;
      running = true;
      try {
        await initialise();
        const t = now();
        const watermark = meta.get(KEY.watermark)!;
        const { changes, above, known, sameSecond, read, swept, sweepRead } = await readChanges(t, watermark);
        const queued = queue.enqueue(
          changes.map((s) => ({ ref: sceneRef(instance, s.id), stashUpdatedAt: s.updated_at })),
          "poll",
        );
        const { newest, atNewest } = nextWatermark(t, watermark, [...above, ...sameSecond], known);
        // Only now, with every change durably queued, do the bookmarks move.
        store.db.transaction(() => {
          meta.set(KEY.watermark, newest);
          meta.set(KEY.atWatermark, JSON.stringify(atNewest));
          meta.set(KEY.cursor, String(t));
          if (swept) {
            meta.set(KEY.sweptAt, String(t));
            meta.set(KEY.nextSweepAt, String(t + SWEEP_EVERY_MS));
          }
        })();
        const report = { at: now(), read, swept: sweepRead, queued };
        reports.push(report);
        if (reports.length > KEEP_REPORTS) reports.shift();
        totals = { polls: totals.polls + 1, read: totals.read + report.read, swept: totals.swept + report.swept };
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
