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
 * into Stash. Ratings are not caught up: the history holds no ratings, and PMS's library
 * listing tells only the token owner's userRating/lastRatedAt with no filter on it (a full
 * listing of every section each run); a rating made while stash2plex was down arrives with
 * the next rate webhook only. (The push side's own rating in Plex is left alone either way.)
 */
import type { InstanceName } from "../domain/ref.ts";
import type { Logger } from "../log.ts";
import { eventKeys, type EventQueue, sceneRefOfGuid } from "./events.ts";
import type { PmsWatch } from "./pms-watch.ts";
import type { PlexEvent } from "./types.ts";

export const HISTORY_SOURCE = "history";
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

  /** GUIDs of the items of these rating keys (the ones PMS still has). */
  async function guidsOf(ratingKeys: string[]): Promise<Map<string, string | undefined>> {
    const guids = new Map<string, string | undefined>();
    const unique = [...new Set(ratingKeys)];
    for (let i = 0; i < unique.length; i += ITEMS_PER_READ)
      for (const item of await pms.items(unique.slice(i, i + ITEMS_PER_READ))) guids.set(item.ratingKey, item.guid);
    return guids;
  }

  async function run(): Promise<CatchUpResult> {
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
    /** One pass; a pass under way is joined rather than run twice. */
    run(): Promise<CatchUpResult> {
      running ??= run()
        .then((r) => {
          last = { ...r, at: now() };
          return r;
        })
        .finally(() => {
          running = undefined;
        });
      return running;
    },
    /** The last pass's figures (dashboard). */
    last: () => last,
  };
}
export type CatchUp = ReturnType<typeof createCatchUp>;
