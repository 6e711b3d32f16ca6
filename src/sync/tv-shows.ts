/**
 * Each TV show's Plex item kept equal to what the TV provider serves for it. A studio's (or
 * group's) name, image or description edited in Stash touches none of its scenes (no
 * updated_at, no hook), so no push would tell Plex. Each show's signature (what the provider
 * serves of it: title, poster and background URLs, summary, date) is kept; a show whose
 * signature changed has its Plex item(s), found by its GUID in the Plex index, refreshed once.
 * The poster URL carries Stash's image version (metadata.ts versionedImageUrl), so a new studio
 * image is a new signature and a new URL that PMS downloads. Signatures live in the database
 * (meta), so a change made while the service was stopped is found by the next full pass.
 */
import { PlexError, type PlexClient } from "../plex/client.ts";
import type { PlexMetadata } from "../schema/plex.ts";
import { guidOf, showRef } from "../domain/ref.ts";
import type { PlexIndex } from "./plex-index.ts";
import { type ArtworkKeeper, targetOf } from "./artwork.ts";

export interface ShowUpkeepDeps {
  instance: string;
  /** The instance's TV provider identifier: the scheme of its show GUIDs. */
  tvIdentifier: string;
  /** What the TV provider serves for a show now; undefined when it has no such show. */
  served(showId: string): Promise<PlexMetadata | undefined>;
  index: Pick<PlexIndex, "byGuid"> & { forget(ratingKey: string): void };
  /** Brings the Plex index up to date (a delta listing, one look a second at most): a show Plex added since our last look. */
  reindex(): Promise<void>;
  plex: Pick<PlexClient, "refresh">;
  /** Puts the show's poster and background into Plex (it cannot fetch them from a LAN address). */
  artwork?: Pick<ArtworkKeeper, "keep">;
  /** Where the signatures are kept (the store's meta table). */
  meta: { get(key: string): string | undefined; set(key: string, value: string): void };
  now?: () => number;
}

/** What of a show Plex shows, as one short string: a change in any of it is a change to refresh. */
export function showSignature(meta: PlexMetadata): string {
  const m = meta as PlexMetadata & Record<string, unknown>;
  const text = JSON.stringify([
    m.title,
    m.thumb ?? null,
    m.art ?? null,
    m.summary ?? null,
    m.originallyAvailableAt ?? null,
  ]);
  return Bun.hash(text).toString(36);
}

/** The saved signatures; unreadable ones count as none (every show is then compared afresh). */
function readSaved(text: string | undefined): Record<string, string> {
  try {
    const parsed = JSON.parse(text ?? "{}");
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? parsed : {};
  } catch {
    return {};
  }
}

/**
 * How long a show checked for a push is not checked again by another push: a bulk edit of one
 * studio's scenes costs a look at the show every few seconds, not one per scene.
 */
const PUSH_CHECK_MS = 5_000;

export function createShowUpkeep(deps: ShowUpkeepDeps) {
  const now = deps.now ?? Date.now;
  const key = `tvShowSignatures:${deps.instance}`;
  const saved = new Map<string, string>(Object.entries(readSaved(deps.meta.get(key))));
  const save = () => deps.meta.set(key, JSON.stringify(Object.fromEntries(saved)));
  const checkedAt = new Map<string, number>();
  /**
   * Compares one show with its saved signature and refreshes its Plex items when it changed.
   * Without a saved one (the first pass, or a show new to us) only an item whose title is not
   * the served one is refreshed. A show Plex has no item of (the index asked for news first,
   * with `reindex`) is left to its scan, which reads it as served now. Answers what was done, or
   * null; a Plex error is thrown (the signature is then not saved, so the next check tries
   * again). Does not save to the database.
   */
  async function compare(showId: string, reindex: boolean): Promise<{ note: string | null; changed: boolean }> {
    const meta = await deps.served(showId);
    if (!meta) return { note: null, changed: saved.delete(showId) };
    const signature = showSignature(meta);
    const was = saved.get(showId);
    const guid = guidOf(deps.tvIdentifier, showRef(deps.instance, showId));
    let items = deps.index.byGuid(guid);
    // At every look, changed or not: a show item Plex added since gets its artwork (a current one costs no request).
    const keepArtwork = () => deps.artwork?.keep(items.map((i) => targetOf(i.rating_key, meta)));
    if (was === signature) {
      await keepArtwork();
      return { note: null, changed: false };
    }
    if (!items.length && reindex) {
      await deps.reindex();
      items = deps.index.byGuid(guid);
    }
    await keepArtwork();
    const stale = was === undefined ? items.filter((i) => i.title !== meta.title) : items;
    const refreshed: string[] = [];
    for (const item of stale) {
      try {
        await deps.plex.refresh(item.rating_key);
        refreshed.push(item.rating_key);
      } catch (err) {
        // Plex dropped the show (its last episode moved away, the scan emptied it): our index had
        // not caught up. Nothing to refresh; a show item Plex makes later reads it as served then.
        // Thrown, it made the scene's push a dead letter (the chaos soak: an edit never delivered).
        if (!(err instanceof PlexError && err.status === 404)) throw err;
        deps.index.forget(item.rating_key);
      }
    }
    saved.set(showId, signature);
    const note = refreshed.length
      ? `show ${showId} refreshed ("${meta.title}": ${was ? "changed in Stash" : "renamed"})`
      : null;
    return { note, changed: true };
  }

  /** Checks waiting for their show's window to pass (a push came too soon after another). */
  const trailing = new Map<string, ReturnType<typeof setTimeout>>();

  /**
   * A push's look at its scene's show: at most once per 5 s per show (many scenes of one show
   * pushed at once). A push within the window leaves one check for its end, so a change made
   * just after a look is not left to the hourly pass (that check's errors are the pass's too).
   */
  async function checkForPush(showId: string): Promise<string | null> {
    const last = checkedAt.get(showId);
    const wait = last === undefined ? 0 : PUSH_CHECK_MS - (now() - last);
    if (wait > 0) {
      if (!trailing.has(showId)) {
        const timer = setTimeout(() => {
          trailing.delete(showId);
          checkForPush(showId).catch(() => {});
        }, wait);
        timer.unref?.();
        trailing.set(showId, timer);
      }
      return null;
    }
    checkedAt.set(showId, now());
    const r = await compare(showId, true);
    if (r.changed) save();
    return r.note;
  }

  return {
    /**
     * The full pass: the Plex index brought up to date once, then every show of the catalog
     * compared; shows no longer served are forgotten.
     * Answers the notes of the shows refreshed; a Stash or Plex error stops it (thrown), what
     * was compared before is kept.
     */
    async checkAll(showIds: readonly string[]): Promise<string[]> {
      const notes: string[] = [];
      let changed = false;
      try {
        await deps.reindex();
        const live = new Set(showIds);
        for (const id of [...saved.keys()]) if (!live.has(id)) changed = saved.delete(id) || changed;
        for (const id of showIds) {
          const r = await compare(id, false);
          changed ||= r.changed;
          if (r.note) notes.push(r.note);
        }
      } finally {
        if (changed) save();
      }
      return notes;
    },
    checkForPush,
  };
}
export type ShowUpkeep = ReturnType<typeof createShowUpkeep>;
