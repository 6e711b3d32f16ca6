/**
 * Catch-up: PMS's watch history since the stored watermark, so a viewing made while anything
 * was down (stash2plex stopped, the webhook lost, the notification stream dropped, Stash down)
 * still arrives, once. Run at start, on every reconnect of the notification stream and every
 * writeback.catchUpSeconds.
 *
 * The history is read oldest first from the watermark (inclusive: entries of the watermark's
 * second are read again; their keys store nothing new), a page at a time. Each entry's item is
 * looked up by rating key (the history names no GUID; one batched read per page) and, when it
 * is one of ours, becomes a play with the key the webhook and the notification path make. The
 * watermark moves to a page's last viewedAt only after that page's events are stored: a crash
 * in between reads the page again.
 *
 * The first run ever starts at now: turning write-back on does not replay years of history
 * into Stash.
 *
 * Ratings: the history holds none, but the library listing shows the token user's (the server
 * owner's, account 1) userRating with its lastRatedAt. At start, on each reconnect of the stream
 * and at most hourly otherwise, our sections are listed and every rating newer than the rating
 * watermark becomes a rate event keyed like the media.rate webhook's. PMS offers no filter on
 * lastRatedAt, so this reads every item of our sections (a page of 200 a request); hence not at
 * every pass. Other accounts' ratings and a cleared rating (no userRating left) are not seen
 * this way: those arrive only by webhook.
 */
import type { InstanceName } from "../domain/ref.ts";
import type { Logger } from "../log.ts";
import { eventKeys, type EventQueue, sceneRefOfGuid } from "./events.ts";
import type { PmsWatch } from "./pms-watch.ts";
import type { PlexEvent } from "./types.ts";

export const HISTORY_SOURCE = "history";
export const RATINGS_SOURCE = "ratings";
/** Ratings are caught up at most this often, besides start and reconnects (a full listing). */
const RATINGS_EVERY_MS = 60 * 60_000;
const PAGE = 200;
/** Rating keys per batched item read. */
const ITEMS_PER_READ = 100;

export interface CatchUpDeps {
  pms: PmsWatch;
  events: EventQueue;
  instances: readonly InstanceName[];
  log: Logger;
  onRecorded: (events: PlexEvent[]) => void;
  now?: () => number;
}

export interface CatchUpResult {
  read: number;
  recorded: number;
  watermark: number;
}

export function createCatchUp(deps: CatchUpDeps) {
  const { pms, events, log } = deps;
  const now = deps.now ?? Date.now;
  let running: Promise<CatchUpResult> | undefined;
  let last: (CatchUpResult & { at: number }) | undefined;
  let lastError: { at: number; error: string } | undefined;
  let lastRatings: number | undefined;

  /** GUIDs of the items of these rating keys (the ones PMS still has). */
  async function guidsOf(ratingKeys: string[]): Promise<Map<string, string | undefined>> {
    const guids = new Map<string, string | undefined>();
    const unique = [...new Set(ratingKeys)];
    for (let i = 0; i < unique.length; i += ITEMS_PER_READ)
      for (const item of await pms.items(unique.slice(i, i + ITEMS_PER_READ))) guids.set(item.ratingKey, item.guid);
    return guids;
  }

  /** Our sections (an agent of ours: an instance's movie or TV identifier) and the item type to list. */
  async function ourSections() {
    const agents = new Set(deps.instances.flatMap((i) => [i.identifier, i.tvIdentifier ?? ""]));
    return (await pms.sections())
      .filter((s) => agents.has(s.agent) && (s.type === "movie" || s.type === "show"))
      .map((s) => ({ key: s.key, type: s.type === "movie" ? (1 as const) : (4 as const) }));
  }

  /** Ratings newer than the rating watermark, from the listing of our sections. */
  async function ratings(): Promise<PlexEvent[]> {
    const since = events.watermark(RATINGS_SOURCE);
    const nowS = Math.floor(now() / 1000);
    if (since === undefined) {
      events.setWatermark(RATINGS_SOURCE, nowS); // the first run: ratings from now on
      return [];
    }
    const found: PlexEvent[] = [];
    let newest = since;
    for (const section of await ourSections()) {
      for (let start = 0; ; start += PAGE) {
        const { items } = await pms.ratedPage(section.key, section.type, start, PAGE);
        for (const item of items) {
          if (item.userRating === undefined || item.lastRatedAt === undefined || item.lastRatedAt < since) continue;
          const ref = sceneRefOfGuid(item.guid, deps.instances);
          if (!ref) continue;
          newest = Math.max(newest, item.lastRatedAt);
          found.push({
            kind: "rate",
            source: "history",
            ref,
            ratingKey: item.ratingKey,
            account: { id: "1" },
            rating: item.userRating,
            key: eventKeys.rate(ref, item.ratingKey, "1", item.userRating, item.lastRatedAt),
            at: item.lastRatedAt * 1000,
          });
        }
        if (items.length < PAGE) break;
      }
    }
    const fresh = events.recordAll(found);
    events.setWatermark(RATINGS_SOURCE, newest);
    return fresh;
  }

  async function run(withRatings: boolean): Promise<CatchUpResult> {
    const due = withRatings || !lastRatings || now() - lastRatings >= RATINGS_EVERY_MS;
    const rated = due ? await ratings() : [];
    if (due) lastRatings = now();
    const result = await runHistory();
    if (rated.length) {
      deps.onRecorded(rated);
      log.info("write-back: ratings caught up from Plex's library", { recorded: rated.length });
    }
    return { ...result, recorded: result.recorded + rated.length };
  }

  async function runHistory(): Promise<CatchUpResult> {
    let watermark = events.watermark(HISTORY_SOURCE);
    if (watermark === undefined) {
      watermark = Math.floor(now() / 1000);
      events.setWatermark(HISTORY_SOURCE, watermark);
      log.info("write-back: Plex's watch history is followed from now on (earlier viewings are not replayed)");
      return { read: 0, recorded: 0, watermark };
    }
    const names = await pms.accounts().catch(() => new Map<string, string>());
    let read = 0;
    let recorded = 0;
    const fresh: PlexEvent[] = [];
    for (let start = 0; ; start += PAGE) {
      const { entries } = await pms.history({ sinceS: watermark, start, size: PAGE });
      if (!entries.length) break;
      read += entries.length;
      const guids = await guidsOf(entries.map((e) => e.ratingKey));
      const page: PlexEvent[] = entries.flatMap((e) => {
        const ref = sceneRefOfGuid(guids.get(e.ratingKey), deps.instances);
        if (!ref) return [];
        const name = names.get(e.accountId);
        return [
          {
            kind: "play" as const,
            source: "history" as const,
            ref,
            ratingKey: e.ratingKey,
            account: { id: e.accountId, ...(name ? { name } : {}) },
            key: eventKeys.play(ref, e.ratingKey, e.accountId, e.viewedAt),
            at: e.viewedAt * 1000,
          },
        ];
      });
      const stored = events.recordAll(page);
      recorded += stored.length;
      fresh.push(...stored);
      // Stored first, then the watermark: a crash here reads this page again, storing nothing twice.
      events.setWatermark(HISTORY_SOURCE, Math.max(watermark, ...entries.map((e) => e.viewedAt)));
      if (entries.length < PAGE) break;
    }
    if (fresh.length) deps.onRecorded(fresh);
    const result = { read, recorded, watermark: events.watermark(HISTORY_SOURCE) ?? watermark };
    if (recorded) log.info("write-back: viewings caught up from Plex's history", { read, recorded });
    return result;
  }

  return {
    /**
     * One pass (the history; the ratings when `withRatings`, or an hour after the last); a pass
     * under way is joined rather than run twice.
     */
    run(withRatings = false): Promise<CatchUpResult> {
      running ??= run(withRatings)
        .then(
          (r) => {
            last = { ...r, at: now() };
            lastError = undefined;
            return r;
          },
          (err: Error) => {
            lastError = { at: now(), error: err.message.slice(0, 300) };
            throw err;
          },
        )
        .finally(() => {
          running = undefined;
        });
      return running;
    },
    /** The last good pass's figures (dashboard). */
    last: () => last,
    /** The last pass's failure, when the last pass failed (dashboard). */
    lastError: () => lastError,
  };
}
export type CatchUp = ReturnType<typeof createCatchUp>;
