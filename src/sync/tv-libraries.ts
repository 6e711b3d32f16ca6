/**
 * One Stash instance's TV libraries at run time: its catalog (src/tv), each library's episode
 * folder, the ports the push uses per scene (tv-push.ts), and the full pass (start-up and
 * periodic: every scene placed, every folder made equal to the catalog, Plex asked to scan the
 * season folders that changed). The full pass is a job: a Stash that is down delays it, it
 * never fails the start.
 */
import { createArtworkKeeper } from "./artwork.ts";
import { createArtworkState } from "./artwork-state.ts";
import type { Database } from "bun:sqlite";
import type { Logger } from "../log.ts";
import type { PathMapper } from "../paths/mapper.ts";
import type { PlexClient } from "../plex/client.ts";
import type { StashScene } from "../schema/stash.ts";
import type { StashClient } from "../stash/client.ts";
import type { MetadataContext } from "../provider/metadata.ts";
import { tvItems } from "../provider/tv-items.ts";
import { createTvCatalog, type PassResult, type TvSceneSource } from "../tv/catalog.ts";
import { episodeFolder, type FolderReport, type NoLink } from "../tv/episode-folder.ts";
import { checkTvFolders, type TvLibrary } from "../tv/libraries.ts";
import { DEFAULT_INSTANCE_ID } from "../domain/ref.ts";
import type { PlexIndex } from "./plex-index.ts";
import { pace } from "../pace.ts";
import { lstatSync } from "node:fs";
import { join } from "node:path";
import type { Job } from "../jobs.ts";
import { isTvSection, type SyncSection } from "./push.ts";
import { tvPlexFolder, tvPlexPath, tvSectionOf, type TvLibraryPort } from "./tv-push.ts";
import { createShowUpkeep } from "./tv-shows.ts";

export interface TvLibrariesDeps {
  db: Database;
  instance: string;
  /** The instance's TV libraries (tv/libraries.ts tvLibrariesOf, this instance's). */
  libraries: readonly TvLibrary[];
  /** Stash: every scene to place, and what the TV provider reads of a show (its first scene, studio, group). */
  stash: TvSceneSource & Pick<StashClient, "scenesByIds" | "groups" | "studioOfScene" | "image">;
  mapper: PathMapper;
  plex?: Pick<PlexClient, "scanPath" | "refresh" | "items" | "upload">;
  sections?: () => Promise<SyncSection[]>;
  /** The Plex index and the TV provider's identifier: a changed show's Plex item is found by its GUID. */
  index?: Pick<PlexIndex, "byGuid" | "refreshSoon" | "sectionFiles" | "forget">;
  tvIdentifier?: string;
  /** The TV provider's metadata settings and where show signatures are kept: with them, changed shows are refreshed. */
  ctx?: MetadataContext;
  meta?: { get(key: string): string | undefined; set(key: string, value: string): void };
  log: Logger;
}

/** What the last full pass of a library found, for the dashboard. */
export interface TvLibraryState {
  id: string;
  lastSyncAt: number | null;
  lastError: string | null;
  /** Links made, moved, removed by the last full pass; things in the way it left alone. */
  report: FolderReport | null;
  /** Scenes the last pass could not place (no file, no studio, in no group). */
  unplaced: number;
  /**
   * Links the catalog places that are not in the episode folder, by link, with why and their
   * show: set by each full pass, kept current by every push (a scene moved, placed or gone).
   */
  unlinked: Map<string, NoLink & { showId: string }>;
  /**
   * What Plex can show of the library: its shows and episodes that have a link in the episode
   * folder (the catalog less `unlinked`). Read when asked; null until a full pass has written
   * the folder, since before that nobody knows what is in it.
   */
  readonly shown: { shows: number; episodes: number } | null;
}

/** Whether a path is there (a link counts even when its target is not). */
const isThere = (path: string) => {
  try {
    lstatSync(path);
    return true;
  } catch {
    return false;
  }
};

/** More season folders than this changed at once: Plex scans the library's folder instead. */
const MANY_FOLDERS = 50;

/**
 * A copy made of new objects and strings, side by side in memory, of what a pass keeps until
 * the next one. The pass's own strings (each link and path) sit among the garbage of a whole
 * library's rows, and the engine never moves what survives: every one kept would hold a block
 * of the heap that is otherwise garbage (at 200,000 scenes, tens of thousands of links on a
 * Windows share: MB of half-empty blocks at idle, issue 26).
 */
const keptApart = <T>(value: T): T => JSON.parse(JSON.stringify(value));

export function createTvLibraries(deps: TvLibrariesDeps) {
  const catalog = createTvCatalog({
    db: deps.db,
    instance: deps.instance,
    schemes: deps.libraries.map((l) => l.scheme),
  });
  const folders = new Map(deps.libraries.map((l) => [l.id, episodeFolder(l.folder)]));
  /** A library's shows in the catalog: the instance's catalog holds every scheme its libraries use, and a show id starts with its scheme. */
  const showsOf = (lib: TvLibrary) => catalog.shows().filter((s) => s.id.replace(/\d.*$/, "") === lib.scheme);
  /** Its shows and episodes with a link: a show of which no episode has one is not in Plex either. */
  const shownOf = (lib: TvLibrary, unlinked: TvLibraryState["unlinked"]) => {
    const missing = new Map<string, number>();
    for (const u of unlinked.values()) missing.set(u.showId, (missing.get(u.showId) ?? 0) + 1);
    const shows = showsOf(lib).map((s) => s.episodes - (missing.get(s.id) ?? 0));
    return { shows: shows.filter((n) => n > 0).length, episodes: shows.reduce((n, e) => n + Math.max(e, 0), 0) };
  };
  const stateOf = (lib: TvLibrary): TvLibraryState => {
    const state: TvLibraryState = {
      id: lib.id,
      lastSyncAt: null,
      lastError: null,
      report: null,
      unplaced: 0,
      unlinked: new Map(),
      get shown() {
        return state.report ? shownOf(lib, state.unlinked) : null;
      },
    };
    return state;
  };
  const states = new Map(deps.libraries.map((l) => [l.id, stateOf(l)]));
  /** One catalog pass per scene object: every library of the instance shares it (each takes its scheme's changes). */
  const passes = new WeakMap<object, PassResult>();
  const passOf = (scene: StashScene) => {
    let pass = passes.get(scene);
    if (!pass) passes.set(scene, (pass = catalog.update(scene)));
    return pass;
  };
  /** A gone scene's changes, kept until every library (each asked once by the push) took its own. */
  const removed = new Map<string, { changes: ReturnType<typeof catalog.remove>; left: number }>();
  /** Shows kept equal to what the TV provider serves (tv-shows.ts): only when Plex is pushed to. */
  const { plex, sections, index, tvIdentifier, ctx, meta } = deps;
  const shows =
    plex && sections && index && tvIdentifier && ctx && meta
      ? (() => {
          const items = tvItems({ stash: deps.stash, catalog, tv: { ctx, tvIdentifier, instance: deps.instance } });
          return createShowUpkeep({
            instance: deps.instance,
            tvIdentifier,
            served: async (showId) => (catalog.show(showId) ? items.show(showId) : undefined),
            index,
            reindex: async () => index.refreshSoon((await sections()).filter(isTvSection)),
            plex,
            meta,
            artwork: createArtworkKeeper({ plex, state: createArtworkState(deps), stash: deps.stash }),
          });
        })()
      : undefined;

  const ports: TvLibraryPort[] = deps.libraries.map((lib) => {
    const folder = folders.get(lib.id)!;
    const { unlinked } = states.get(lib.id)!;
    const apply = (changes: PassResult["changes"]) => {
      const touched = new Set<string>();
      for (const c of changes.filter((c) => c.scheme === lib.scheme)) {
        const report = folder.syncOne(c.before, c.after);
        for (const t of report.touched) touched.add(t);
        for (const p of report.problems) deps.log.warn(`TV library ${lib.id}: ${p}`);
        // The dashboard's count follows each push, not only the hourly pass.
        if (c.before) unlinked.delete(c.before.link);
        const missed = c.after && report.unlinked.find((u) => u.link === c.after!.link);
        if (missed) unlinked.set(missed.link, { ...missed, showId: c.after!.showId });
      }
      return [...touched];
    };
    return {
      id: lib.id,
      folder: lib.folder,
      ...(lib.plexFolder ? { plexFolder: lib.plexFolder } : {}),
      scheme: lib.scheme,
      catalog,
      ...(shows ? { refreshShow: (showId: string) => shows.checkForPush(showId) } : {}),
      unlinked: (link) => unlinked.get(link),
      async sync(scene) {
        const touched = apply(passOf(scene).changes);
        return { placement: catalog.placementOf(lib.scheme, scene.id), touched };
      },
      async remove(sceneId) {
        // The catalog forgets the scene once for all libraries; each library removes its own link.
        const gone = removed.get(sceneId) ?? { changes: catalog.remove(sceneId), left: deps.libraries.length };
        if (--gone.left > 0) removed.set(sceneId, gone);
        else removed.delete(sceneId);
        return apply(gone.changes);
      },
    };
  });

  /** Asks Plex to scan what a full pass changed in one library: its season folders, or the whole folder when many. */
  async function scanChanged(lib: TvLibrary, touched: string[]) {
    if (!touched.length || !deps.plex || !deps.sections) return;
    const sections = await deps.sections();
    const paths = touched.length > MANY_FOLDERS ? [lib.folder] : touched;
    for (const path of paths) {
      const plexPath = tvPlexPath(lib, deps.mapper, path);
      const section = plexPath ? tvSectionOf(sections, deps.instance, plexPath) : undefined;
      if (plexPath && section) await deps.plex.scanPath(section.key, plexPath);
    }
  }

  /**
   * Season folders where Plex still shows an episode whose link is gone: a move whose scan was
   * owed in memory when the service was killed, or an episode PMS added unmatched (no GUID to
   * find it by) while a scan ran. Plex drops it at the scan of its folder. Paths inside the
   * episode folder, as the full pass's `touched`.
   */
  async function leftBehind(lib: TvLibrary): Promise<string[]> {
    const plexFolder = tvPlexFolder(lib, deps.mapper);
    if (!plexFolder || !deps.index || !deps.sections || !deps.plex) return [];
    const section = tvSectionOf(await deps.sections(), deps.instance, plexFolder);
    if (!section) return [];
    const base = plexFolder.replace(/[\\/]+$/, "");
    const gone = new Map<string, string>();
    for (const { rating_key, path } of deps.index.sectionFiles(section.key)) {
      const rel = path.startsWith(`${base}/`) ? path.slice(base.length + 1) : null;
      if (rel && !isThere(join(lib.folder, rel))) gone.set(rating_key, rel);
      await pace();
    }
    // Only what Plex still has: the index keeps an item PMS dropped until it is read whole again.
    const folders = new Set<string>();
    const keys = [...gone.keys()];
    for (let i = 0; i < keys.length; i += 100) {
      const still = new Set((await deps.plex.items(keys.slice(i, i + 100))).map((item) => String(item.ratingKey)));
      for (const key of keys.slice(i, i + 100)) {
        if (still.has(key)) folders.add(gone.get(key)!.split("/").slice(0, -1).join("/"));
        else deps.index.forget(key);
      }
    }
    return [...folders].filter(Boolean);
  }

  /** Every scene placed, every episode folder made equal to the catalog; throws when Stash does not answer. */
  async function fullSync(): Promise<void> {
    let pass: PassResult;
    try {
      pass = await catalog.build(deps.stash);
    } catch (err) {
      for (const s of states.values()) s.lastError = `Stash did not answer: ${(err as Error).message}`;
      throw err;
    }
    for (const lib of deps.libraries) {
      const state = states.get(lib.id)!;
      try {
        const rows = catalog.placements(lib.scheme);
        const report = await folders.get(lib.id)!.sync(rows.map((r) => ({ link: r.link, path: r.path })));
        const showOf = new Map(rows.map((r) => [r.link, r.showId]));
        state.unlinked.clear();
        for (const u of keptApart(report.unlinked.map((u) => ({ ...u, showId: showOf.get(u.link)! }))))
          state.unlinked.set(u.link, u);
        Object.assign(state, {
          lastSyncAt: Date.now(),
          lastError: null,
          // Its links not made are `unlinked` (kept once, not twice).
          report: { ...report, unlinked: [] },
          unplaced: pass.unplaced.filter((u) => u.scheme === lib.scheme).length,
        });
        for (const p of report.problems.slice(0, 20)) deps.log.warn(`TV library ${lib.id}: ${p}`);
        if (report.created || report.removed || report.retargeted)
          deps.log.info("TV library synced", {
            library: lib.id,
            created: report.created,
            moved: report.retargeted,
            removed: report.removed,
          });
        // A Plex that does not answer now: the next pass looks again.
        const stale = await leftBehind(lib).catch(() => [] as string[]);
        await scanChanged(lib, [...report.touched, ...stale]).catch((err: Error) =>
          deps.log.warn(`TV library ${lib.id}: Plex not asked to scan (${err.message}); its next scan finds the links`),
        );
      } catch (err) {
        state.lastError = (err as Error).message;
        deps.log.warn(`TV library ${lib.id}: the episode folder was not synced`, { error: state.lastError });
      }
    }
    // A studio or group edited in Stash (name, image, description) touches none of its scenes:
    // every show is compared with what Plex was last given, and refreshed when it changed.
    if (shows) {
      try {
        for (const note of await shows.checkAll(catalog.shows().map((s) => s.id)))
          deps.log.info(`TV libraries: ${note}`, { instance: deps.instance });
      } catch (err) {
        deps.log.warn(
          `TV libraries: shows not compared with Plex (${(err as Error).message}); the next pass tries again`,
        );
      }
    }
  }

  /** Each library as the dashboard and the path tester read it (ui/source.ts TvLibraryView). */
  const views = () =>
    deps.libraries.map((lib) => ({
      id: lib.id,
      instance: deps.instance,
      layout: lib.layout.layout === "group" ? "group" : lib.layout.parentStudio ? "studio (top parent)" : "studio",
      scheme: lib.scheme,
      folder: lib.folder,
      plexFolder: tvPlexFolder(lib, deps.mapper),
      counts() {
        const own = showsOf(lib);
        return { shows: own.length, episodes: own.reduce((n, s) => n + s.episodes, 0) };
      },
      state: () => states.get(lib.id)!,
      placementOf: (sceneId: string) => catalog.placementOf(lib.scheme, sceneId),
      plexPathOf: (link: string) => tvPlexPath(lib, deps.mapper, link),
    }));

  return {
    instance: deps.instance,
    catalog,
    libraries: deps.libraries,
    ports,
    fullSync,
    views,
    states: () => deps.libraries.map((l) => states.get(l.id)!),
  };
}
export type TvLibraries = ReturnType<typeof createTvLibraries>;

/** The full pass's job of an instance: the default's is `tv-sync`, another's `tv-sync-<id>`. */
export const tvJobId = (instance: string) => (instance === DEFAULT_INSTANCE_ID ? "tv-sync" : `tv-sync-${instance}`);

const FULL_PASS_SECONDS = 3600;
const RETRY_MS = 30_000;

/**
 * Each instance's full pass as a scheduled job: at start-up, then every hour (catches anything
 * the poller missed). Before writing anything it checks again that no episode folder lies in a
 * Stash library folder. A Stash that does not answer fails the run, which is tried again in
 * 30 s (not at the next hour): the episode folder is ready soon after Stash is.
 */
export function tvJobs(
  parts: readonly (Pick<TvLibraries, "instance" | "libraries" | "fullSync"> & {
    stash: { libraryPaths(): Promise<string[]> };
  })[],
  trigger: (jobId: string) => void,
  log: Logger,
) {
  let stopped = false;
  const warned = new Set<string>();
  const timers = new Set<ReturnType<typeof setTimeout>>();
  const jobs: Job[] = parts.map((part) => {
    const id = tvJobId(part.instance);
    const again = () => {
      if (stopped) return;
      const timer = setTimeout(() => {
        timers.delete(timer);
        if (!stopped) trigger(id);
      }, RETRY_MS);
      timers.add(timer);
    };
    return {
      id,
      name:
        part.instance === DEFAULT_INSTANCE_ID
          ? "Sync the TV libraries' episode folders"
          : `Sync the TV libraries' episode folders of Stash "${part.instance}"`,
      everySeconds: FULL_PASS_SECONDS,
      async run() {
        try {
          const { problems, unchecked } = await checkTvFolders(part.libraries, () => part.stash.libraryPaths());
          if (problems.length) throw new Error(problems.join("; "));
          // Not answered: a Stash that is down fails the catalog's build next (and is tried again);
          // one that answers scenes but not its settings (an older Stash) is said once, not a wall.
          if (unchecked.length && !warned.has(part.instance)) {
            warned.add(part.instance);
            log.warn(
              "TV libraries: Stash did not list its library folders; the episode folders could not be checked against them",
              {
                instance: part.instance,
              },
            );
          }
          await part.fullSync();
        } catch (err) {
          again();
          throw err;
        }
      },
    };
  });
  return {
    jobs,
    stop() {
      stopped = true;
      for (const t of timers) clearTimeout(t);
      timers.clear();
    },
  };
}
