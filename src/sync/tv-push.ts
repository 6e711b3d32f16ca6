/**
 * The TV half of one scene's push: keeps the scene's place in each TV library of its instance
 * current (the catalog's placement and the episode folder's links, moved when its studio, date,
 * group or files changed), asks Plex to scan only the season folders that changed, and finds
 * the scene's episode item(s) in the TV sections, which the pusher then refreshes like movie
 * items (one job per scene; episode items are its job items). The scene's show is refreshed
 * too when what the TV provider serves of it changed (a studio renamed, a new image:
 * tv-shows.ts). A library's own problem (a link it cannot write) is a note and the others go
 * on; a Plex that does not answer throws, as for movies (the job waits behind the breaker),
 * after every library's links are written.
 */
import { PlexError, type PlexClient } from "../plex/client.ts";
import type { PathMapper } from "../paths/mapper.ts";
import type { StashScene } from "../schema/stash.ts";
import type { Placement, TvCatalog } from "../tv/types.ts";
import type { NoLink } from "../tv/episode-folder.ts";
import { episodeToken } from "../tv/names.ts";
import { episodeRef, guidOf, type ShowScheme } from "../domain/ref.ts";
import type { IndexedItem, PlexIndex } from "./plex-index.ts";
import { isInside, isTvSection, type SyncSection } from "./push.ts";

/** What the push needs of one TV library (src/tv/ provides it; app.ts joins them). */
export interface TvLibraryPort {
  id: string;
  /** The episode folder, as Stash's side (this service) writes it. */
  folder: string;
  /** The same folder as Plex sees it, when configured (else the path rules map it). */
  plexFolder?: string;
  /** The show scheme of its layout: `st` (studio), `sn` (studio with sub-studios) or `gr` (group). */
  scheme: ShowScheme;
  catalog: Pick<TvCatalog, "show" | "placementOf" | "placementsOf">;
  /**
   * Places one scene in the catalog and brings its links in the episode folder up to date.
   * Returns its placement now (none: it cannot be placed, or is gone) and the folders whose
   * content changed, as paths inside the episode folder (absolute, or relative to it).
   */
  sync(scene: StashScene): Promise<{ placement: Placement | undefined; touched: string[] }>;
  /** A scene Stash no longer has: its links removed; the folders touched. */
  remove?(sceneId: string): Promise<string[]>;
  /**
   * Why a placement's link is not in the episode folder (its file is on a Windows path, something
   * not ours is in its place, the filesystem refused), or undefined when it is there: Plex cannot
   * show an episode without its link, so none is waited for or reported missing.
   */
  unlinked?(link: string): NoLink | undefined;
  /**
   * Compares a show with what Plex was last given of it (its studio or group renamed, a new
   * image or description) and refreshes its Plex item when it changed (tv-shows.ts); a note, or null.
   */
  refreshShow?(showId: string): Promise<string | null>;
}

/** One episode item to refresh, bound to the GUID its TV provider serves it under. */
export interface TvItem extends IndexedItem {
  /** The GUID the item must carry (`…tv://episode/st-42`). */
  want: string;
}

export interface TvPushDeps {
  instance: string;
  /** The instance's TV provider identifier (tvIdentifierOf), the scheme of its episode GUIDs. */
  tvIdentifier: string;
  libraries: readonly TvLibraryPort[];
  plex: Pick<PlexClient, "scanPath" | "refresh" | "items">;
  index: Pick<PlexIndex, "atPath" | "byGuid" | "byToken">;
  mapper: PathMapper;
  /** How long a folder asked to be scanned is not asked again while nothing in it changed. */
  scanWindowMs: number;
  now?: () => number;
}

export interface TvUpkeep {
  /** The scene's episode items found in Plex now. */
  items: TvItem[];
  /** Placements whose episode Plex has not shown yet (a scan of its folder was asked for). */
  missing: number;
  notes: string[];
}

const join = (base: string, rel: string) => `${base.replace(/[\\/]+$/, "")}/${rel.replace(/^[\\/]+/, "")}`;
const parentOf = (path: string) => path.replace(/[\\/][^\\/]*$/, "");

/** A TV library's episode folder as Plex sees it: its plexFolder, else the path rules. */
export const tvPlexFolder = (lib: Pick<TvLibraryPort, "folder" | "plexFolder">, mapper: PathMapper) =>
  lib.plexFolder ?? mapper.toPlex(lib.folder)?.path ?? null;

/** A path inside the episode folder (absolute, or relative to it, like a placement's link) as Plex sees it. */
export function tvPlexPath(
  lib: Pick<TvLibraryPort, "folder" | "plexFolder">,
  mapper: PathMapper,
  path: string,
): string | null {
  const base = tvPlexFolder(lib, mapper);
  if (!base) return null;
  const rel = isInside(path, lib.folder) ? path.slice(lib.folder.replace(/[\\/]+$/, "").length) : path;
  return rel.replace(/^[\\/]+/, "") ? join(base, rel) : base.replace(/[\\/]+$/, "");
}

/** The instance's TV section holding a Plex path (a library's section: its location is the episode folder). */
export const tvSectionOf = (sections: readonly SyncSection[], instance: string, plexPath: string) =>
  sections.find((s) => isTvSection(s) && s.instance === instance && s.locations.some((l) => isInside(plexPath, l)));

export function createTvPusher(deps: TvPushDeps) {
  const now = deps.now ?? Date.now;
  /** Folder → when Plex was last asked to scan it while nothing in it had changed (a retry). */
  const lastScan = new Map<string, number>();

  const plexPathOf = (lib: TvLibraryPort, path: string) => tvPlexPath(lib, deps.mapper, path);
  const sectionOf = (sections: SyncSection[], plexPath: string) => tvSectionOf(sections, deps.instance, plexPath);

  /** Asks Plex to scan a folder: always when its content changed now, else once per window. */
  async function scan(sections: SyncSection[], plexFolder: string, changed: boolean): Promise<string> {
    const section = sectionOf(sections, plexFolder);
    if (!section) return `no TV section of Plex holds ${plexFolder}`;
    const last = lastScan.get(plexFolder);
    if (!changed && last !== undefined && now() - last < deps.scanWindowMs)
      return `Plex was asked to scan ${plexFolder} ${Math.round((now() - last) / 1000)} s ago`;
    await deps.plex.scanPath(section.key, plexFolder);
    lastScan.set(plexFolder, now());
    return `asked Plex to scan ${plexFolder}`;
  }

  /**
   * Folders whose content changed but whose scan Plex did not take (down): asked again before
   * anything else, at the next push of any scene. Without it a moved episode's old season would
   * keep its old episode until the next full scan.
   */
  const owed = new Set<string>();
  /** Asks Plex to scan every owed folder; throws Plex's error when it still does not answer. */
  async function payOwed(sections: SyncSection[], notes: string[]) {
    let down: unknown;
    for (const folder of [...owed]) {
      try {
        notes.push(await scan(sections, folder, true));
        owed.delete(folder);
      } catch (err) {
        if (!(err instanceof PlexError)) {
          owed.delete(folder);
          notes.push(`${folder}: ${(err as Error).message}`);
        } else down ??= err;
      }
    }
    if (down) throw down;
  }

  /**
   * Episodes of the scene that Plex still has where the scene no longer is: its link moved (or
   * went) and the scan of the folder it left was never asked, because the process was killed
   * between moving the link and asking (`owed` lives in memory), or the scan was lost in a Plex
   * restart. The link is already right, so nothing is "touched" again; only Plex's own item at
   * the old path tells. Its folder is scanned (once per window), so Plex drops it. Found in the
   * index by the episode's GUID, or by the scene's token in a file's name (an episode PMS added
   * unmatched); their files read from Plex (an item Plex no longer has: none).
   */
  async function scanLeftBehind(sceneId: string, current: TvItem[], sections: SyncSection[]): Promise<string[]> {
    const here = new Set(current.map((i) => i.rating_key));
    const left = new Set<string>();
    for (const lib of deps.libraries) {
      for (const i of deps.index.byGuid(guidOf(deps.tvIdentifier, episodeRef(deps.instance, lib.scheme, sceneId))))
        left.add(i.rating_key);
      // An episode PMS added unmatched (it scanned the link while we were down) has no GUID of
      // ours, but its file's name ends with the scene's token.
      for (const f of deps.index.byToken(episodeToken(lib.scheme, sceneId)))
        if (sectionOf(sections, f.path)) left.add(f.rating_key);
    }
    for (const key of here) left.delete(key);
    if (!left.size) return [];
    const folders = new Set<string>();
    for (const item of await deps.plex.items([...left]))
      for (const media of (item.Media as { Part?: { file?: string }[] }[] | undefined) ?? [])
        for (const part of media.Part ?? []) if (part.file) folders.add(parentOf(part.file));
    const notes: string[] = [];
    for (const folder of folders) notes.push(`an old episode is left behind; ${await scan(sections, folder, false)}`);
    return notes;
  }

  /** A scene Stash no longer has: its links removed, the folders that held them scanned. */
  async function gone(sceneId: string, sections: SyncSection[]): Promise<string[]> {
    const notes: string[] = [];
    for (const lib of deps.libraries) {
      try {
        const touched = (await lib.remove?.(sceneId)) ?? [];
        for (const t of touched) {
          const folder = plexPathOf(lib, t);
          if (folder) owed.add(folder);
        }
      } catch (err) {
        notes.push(`TV ${lib.id}: ${(err as Error).message}`);
      }
    }
    await payOwed(sections, notes);
    return notes;
  }

  /**
   * The scene's upkeep in every TV library: its links, the scans of what changed, and its
   * episode items; `again` refreshes the index once when one is missing (an item Plex added
   * since our last look).
   */
  async function upkeep(scene: StashScene, sections: SyncSection[], again: () => Promise<void>): Promise<TvUpkeep> {
    const notes: string[] = [];
    const wanted: { lib: TvLibraryPort; placement: Placement; at: string }[] = [];
    // Every library's links first (no Plex call: a Plex that is down must not leave one library's
    // links behind), then the scans of what changed, then the episodes.
    for (const lib of deps.libraries) {
      try {
        const { placement, touched } = await lib.sync(scene);
        for (const t of touched) {
          const folder = plexPathOf(lib, t);
          if (folder) owed.add(folder);
        }
        if (!placement) {
          if (touched.length) notes.push(`TV ${lib.id}: scene ${scene.id} left the library`);
          continue;
        }
        const noLink = lib.unlinked?.(placement.link);
        if (noLink) {
          notes.push(`TV ${lib.id}: scene ${scene.id} has no episode link (${noLink.cause}: ${noLink.detail})`);
          continue;
        }
        const at = plexPathOf(lib, placement.link);
        if (!at) {
          notes.push(`TV ${lib.id}: no path rule maps the episode folder ${lib.folder} to Plex (set plexFolder)`);
          continue;
        }
        wanted.push({ lib, placement, at });
      } catch (err) {
        notes.push(`TV ${lib.id}: ${(err as Error).message}`);
      }
    }
    await payOwed(sections, notes);
    // The scene's show, as its studio or group is now in Stash (renamed, a new image): a Plex
    // error is thrown like any (the job waits), Stash's is a note (the full pass compares again).
    for (const { lib, placement } of wanted) {
      const show = await lib.refreshShow?.(placement.showId).catch((err: Error) => {
        if (err instanceof PlexError) throw err;
        return `show ${placement.showId} not compared with Plex (${err.message})`;
      });
      if (show) notes.push(`TV ${lib.id}: ${show}`);
    }
    const find = () => wanted.map((w) => ({ ...w, found: deps.index.atPath(w.at) }));
    let looked = find();
    if (looked.some((w) => !w.found.length)) {
      await again();
      looked = find();
    }
    const items: TvItem[] = [];
    let missing = 0;
    for (const { lib, placement, at, found } of looked) {
      const want = guidOf(deps.tvIdentifier, episodeRef(deps.instance, lib.scheme, placement.sceneId));
      if (found.length) for (const item of found) items.push({ ...item, want });
      else if (!sectionOf(sections, at)) notes.push(`TV ${lib.id}: no TV section of Plex holds ${parentOf(at)}`);
      else {
        missing++;
        notes.push(`TV ${lib.id}: episode not in Plex yet; ${await scan(sections, parentOf(at), false)}`);
      }
    }
    notes.push(...(await scanLeftBehind(scene.id, items, sections)));
    return { items, missing, notes };
  }

  return { upkeep, gone };
}
export type TvPusher = ReturnType<typeof createTvPusher>;
