/**
 * One instance's TV catalog: every scene's place in the shows of each scheme its TV libraries
 * use, kept in the tv_placements table. `build` places every scene of the instance's Stash (at
 * start-up, or a full resync); `update` places one scene that changed (the push side calls it)
 * and says what moved. The TV provider reads the catalog through TvCatalog.
 */
import type { Database } from "bun:sqlite";
import type { ShowScheme } from "../domain/ref.ts";
import type { StashPage } from "../stash/client.ts";
import { extOf, fallbackTitle, linkPath } from "./names.ts";
import { type NumberingNote, type Numbered, numberEpisodes, type Wanted } from "./numbering.ts";
import { type Place, placeScene, type TvScene } from "./placement.ts";
import { type PlacementRow, placementsTable } from "./placements.ts";
import type { EpisodeRange, SeasonSummary, ShowSummary, TvCatalog } from "./types.ts";
import { runNow, runPaced } from "../pace.ts";

/** One scene's placement in one scheme before and after a pass (either missing: placed or removed). */
export interface PlacementChange {
  scheme: ShowScheme;
  sceneId: string;
  before?: PlacementRow;
  after?: PlacementRow;
}

/** A scene a pass could not place, and why (no file, no studio, in no group). */
export interface Unplaced {
  scheme: ShowScheme;
  sceneId: string;
  title: string | null;
  reason: string;
}

export interface PassResult {
  changes: PlacementChange[];
  unplaced: Unplaced[];
  /** Scenes placed elsewhere than they asked (a group index already held). */
  notes: (NumberingNote & { scheme: ShowScheme })[];
}

/** What `build` reads Stash through (the Stash client has it). */
export interface TvSceneSource {
  tvScenesPage(page: number, perPage: number): Promise<StashPage<TvScene>>;
}

export interface TvCatalogOptions {
  db: Database;
  instance: string;
  /** The schemes of this instance's TV libraries (st, sn, gr): each is placed separately. */
  schemes: readonly ShowScheme[];
  /** Scenes per Stash page during `build`. */
  pageSize?: number;
  /** How `build`'s pass hands the event loop back (default pace.ts's; a test steps it). */
  pause?: () => Promise<void>;
}

export type TvCatalogStore = ReturnType<typeof createTvCatalog>;

const same = (a: PlacementRow, b: PlacementRow) =>
  a.showId === b.showId &&
  a.showTitle === b.showTitle &&
  a.season === b.season &&
  a.episode === b.episode &&
  a.want === b.want &&
  a.title === b.title &&
  a.path === b.path &&
  a.link === b.link;

const wantedOf = (p: Place): Wanted => ({
  sceneId: p.sceneId,
  showId: p.showId,
  season: p.season,
  claim: p.claim,
  date: p.date,
  want: p.want,
});

/** A numbered scene as a row: its link made from its show, number, title and primary file. */
function rowOf(scheme: ShowScheme, n: Numbered, showTitle: string, title: string, path: string): PlacementRow {
  const link = linkPath({
    scheme,
    sceneId: n.sceneId,
    showId: n.showId,
    showTitle,
    season: n.season,
    episode: n.episode,
    title,
    path,
  });
  return { ...n, scheme, showTitle, title, path, link };
}

/**
 * The link a placement keeps. Plex knows a file by its path: a renamed link is a new item to it
 * (watched state, added date and edits made in Plex start over), so a name once given stays
 * while the scene keeps its show, season, number and file type — a retitled scene or a renamed
 * studio changes what the provider serves, not the file names. A scene new to a show goes into
 * the folder the show already has.
 */
function stableLink(next: PlacementRow, prev: PlacementRow | undefined, showFolder: string | undefined): string {
  if (
    prev &&
    prev.showId === next.showId &&
    prev.season === next.season &&
    prev.episode === next.episode &&
    extOf(prev.path) === extOf(next.path)
  )
    return prev.link;
  if (showFolder === undefined) return next.link;
  return [showFolder, ...next.link.split("/").slice(1)].join("/");
}

const titleOf = (scene: TvScene) => scene.title?.trim() || fallbackTitle(scene.id, scene.files[0]?.path);

export function createTvCatalog(options: TvCatalogOptions) {
  const { instance } = options;
  const table = placementsTable(options.db);
  const schemes = [...new Set(options.schemes)];

  /**
   * Places `scenes` in one scheme; `full`: every scene of the instance is in `scenes` (the rest
   * are gone). Yields between scenes while placing them (pure work: a full pass over a large
   * library is run paced, pace.ts); from reading the rows to writing them it never yields, so a
   * push's one-scene update cannot come between (the numbers it takes could clash).
   */
  function* pass(scheme: ShowScheme, scenes: readonly TvScene[], full: boolean, out: PassResult) {
    const places: { place: Place; scene: TvScene }[] = [];
    const leaving = new Set<string>();
    for (const scene of scenes) {
      yield;
      const placed = placeScene(scene, scheme);
      if (placed.ok) places.push({ place: placed.place, scene });
      else {
        leaving.add(scene.id);
        out.unplaced.push({ scheme, sceneId: scene.id, title: scene.title ?? null, reason: placed.reason });
      }
    }
    const looked = new Set(scenes.map((s) => s.id));
    // A full pass looks at every row; one scene's at its own (and see `fixed`).
    const before = full
      ? table.all(instance, scheme)
      : scenes.flatMap((s) => {
          const row = table.get(instance, scheme, s.id);
          return row ? [row] : [];
        });
    // One scene's pass reads only the seasons it may take a number in (its own, and Season 0 where
    // a taken index sends it): the rows there occupy numbers. A show's other rows are read only
    // when the show was renamed (its folder's name changes, so every link of it moves).
    const seasons = new Map(
      places.flatMap(({ place: p }) => [0, p.season].map((n) => [`${p.showId}/${n}`, [p.showId, n] as const])),
    );
    const fixed = full
      ? []
      : [...seasons.values()].flatMap(([showId, n]) =>
          table.episodes(instance, showId, n).filter((r) => !looked.has(r.sceneId)),
        );
    const renamed = full
      ? []
      : [...new Map(places.map(({ place: p }) => [p.showId, p.showTitle]))].flatMap(([showId, title]) => {
          const was = table.showTitle(instance, showId);
          return was === undefined || was === title
            ? []
            : table.episodes(instance, showId).filter((r) => !looked.has(r.sceneId));
        });
    const previous = new Map(before.map((r) => [r.sceneId, r]));
    const { numbered, notes } = numberEpisodes(
      fixed,
      previous,
      places.map((p) => wantedOf(p.place)),
    );
    out.notes.push(...notes.map((n) => ({ ...n, scheme })));
    const byScene = new Map(places.map((p) => [p.place.sceneId, p]));
    const showTitles = new Map(places.map((p) => [p.place.showId, p.place.showTitle]));
    const put: PlacementRow[] = [];
    const record = (prev: PlacementRow | undefined, next: PlacementRow | undefined) => {
      if (prev && next && same(prev, next)) return;
      if (next) put.push(next);
      out.changes.push({ scheme, sceneId: (next ?? prev)!.sceneId, before: prev, after: next });
    };
    const folders = new Map<string, string | undefined>();
    const folderOf = (showId: string) => {
      if (!folders.has(showId)) folders.set(showId, table.showFolder(instance, showId));
      return folders.get(showId);
    };
    for (const n of numbered) {
      const { place, scene } = byScene.get(n.sceneId)!;
      const prev = previous.get(n.sceneId);
      const next = rowOf(scheme, n, place.showTitle, titleOf(scene), scene.files[0]!.path);
      record(prev, { ...next, link: stableLink(next, prev, folderOf(n.showId)) });
    }
    // A show renamed (its studio or group): every episode of it carries the new title; the
    // folder keeps its name (see stableLink).
    for (const r of renamed) {
      const title = showTitles.get(r.showId);
      if (title !== undefined && title !== r.showTitle) record(r, { ...r, showTitle: title });
    }
    const gone = full
      ? [...previous.keys()].filter((id) => !byScene.has(id))
      : [...leaving].filter((id) => previous.has(id));
    for (const id of gone) record(previous.get(id), undefined);
    table.apply(instance, scheme, gone, put);
    // What the provider read of shows and seasons is stale only when rows changed.
    if (gone.length || put.length) invalidate();
  }

  // Show and season summaries are read per request by the TV provider (a scan asks for a show
  // per episode): kept until the next write, which only this catalog makes for its instance.
  // One show is read by its own query: every show's summary counts every placement (a whole
  // library's rows at 200,000 scenes), and each push's pass clears these.
  let summaries = {
    shows: undefined as ShowSummary[] | undefined,
    byId: new Map<string, ShowSummary | null>(),
    seasons: new Map<string, SeasonSummary[]>(),
  };
  const invalidate = () => {
    summaries = { shows: undefined, byId: new Map(), seasons: new Map() };
  };
  const shows = () => {
    if (!summaries.shows) {
      summaries.shows = table.shows(instance);
      summaries.byId = new Map(summaries.shows.map((s) => [s.id, s]));
    }
    return summaries.shows;
  };

  function* run(scenes: readonly TvScene[], full: boolean): Generator<unknown, PassResult> {
    const out: PassResult = { changes: [], unplaced: [], notes: [] };
    for (const scheme of schemes) yield* pass(scheme, scenes, full, out);
    return out;
  }

  const catalog = {
    instance,
    schemes,
    shows: () => [...shows()],
    show: (showId: string): ShowSummary | undefined => {
      let show = summaries.byId.get(showId);
      if (show === undefined) summaries.byId.set(showId, (show = table.show(instance, showId) ?? null));
      return show ?? undefined;
    },
    seasons: (showId: string) => {
      let seasons = summaries.seasons.get(showId);
      if (!seasons) summaries.seasons.set(showId, (seasons = table.seasons(instance, showId)));
      return [...seasons];
    },
    episodes: (showId: string, season?: number, range?: EpisodeRange) =>
      table.episodes(instance, showId, season, range),
    placementOf: (scheme: ShowScheme, sceneId: string) => table.get(instance, scheme, sceneId),
    placementsOf: (scheme: ShowScheme, sceneIds: readonly string[]) => table.getMany(instance, scheme, sceneIds),
    /** Every placement of one scheme (the episode folder's full sync). */
    placements: (scheme: ShowScheme) => table.all(instance, scheme),
    /** How many placements the instance has, all schemes together. */
    size: () => table.count(instance),
    /** Places every scene given, as the whole library: scenes not among them leave the catalog. */
    buildFrom: (scenes: readonly TvScene[]) => runNow(run(scenes, true)),
    /** Reads every scene of the instance's Stash (paged) and places them all. */
    async build(source: TvSceneSource): Promise<PassResult> {
      const perPage = options.pageSize ?? 1000;
      const scenes: TvScene[] = [];
      for (let page = 1; ; page++) {
        const { count, items } = await source.tvScenesPage(page, perPage);
        scenes.push(...items);
        if (items.length < perPage || scenes.length >= count) break;
      }
      // A push placing a scene meanwhile (while pages are read, or now while the pass yields) is
      // overtaken by the pass's older copy of it until its next push, as it always was; the
      // removals and insertions of a pass are applied in one transaction at its end.
      return runPaced(run(scenes, true), options.pause);
    },
    /** Places one scene that changed; returns what moved (its own rows, and a renamed show's). */
    update: (scene: TvScene) => runNow(run([scene], false)),
    /** A scene gone from Stash: it leaves every show. */
    remove(sceneId: string): PlacementChange[] {
      const changes: PlacementChange[] = [];
      for (const scheme of schemes) {
        const before = table.get(instance, scheme, sceneId);
        if (!before) continue;
        invalidate();
        table.apply(instance, scheme, [sceneId], []);
        changes.push({ scheme, sceneId, before });
      }
      return changes;
    },
  } satisfies TvCatalog & Record<string, unknown>;
  return catalog;
}
