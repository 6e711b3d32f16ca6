/**
 * The tv_placements table (the one module that reads and writes it): each scene's show,
 * season, episode number and link, per instance and show scheme. The numbers persisted here
 * are what keeps episodes stable across restarts.
 */
import type { Database } from "bun:sqlite";
import type { ShowScheme } from "../domain/ref.ts";
import type { EpisodeRange, Placement, SeasonSummary, ShowSummary } from "./types.ts";

/** A placement as stored: with what its link is made of and what its number was given for. */
export interface PlacementRow extends Placement {
  showTitle: string;
  /** Place.want when the number was given (numbering.ts keeps the number while it holds). */
  want: string;
  /** The scene's title as its link names it. */
  title: string;
  /** The scene's primary file, as Stash names it: the link's target. */
  path: string;
}

interface Raw {
  scene_id: string;
  scheme: string;
  show_id: string;
  show_title: string;
  season: number;
  episode: number;
  want: string;
  title: string;
  path: string;
  link: string;
}

const COLUMNS = "scene_id, scheme, show_id, show_title, season, episode, want, title, path, link";
const rowOf = (r: Raw): PlacementRow => ({
  sceneId: r.scene_id,
  scheme: r.scheme as ShowScheme,
  showId: r.show_id,
  showTitle: r.show_title,
  season: r.season,
  episode: r.episode,
  want: r.want,
  title: r.title,
  path: r.path,
  link: r.link,
});

export type Placements = ReturnType<typeof placementsTable>;

export function placementsTable(db: Database) {
  const all = db.query<Raw, [string, string]>(`SELECT ${COLUMNS} FROM tv_placements WHERE instance = ? AND scheme = ?`);
  const one = db.query<Raw, [string, string, string]>(
    `SELECT ${COLUMNS} FROM tv_placements WHERE instance = ? AND scheme = ? AND scene_id = ?`,
  );
  const many = db.query<Raw, [string, string, string]>(
    `SELECT ${COLUMNS} FROM tv_placements WHERE instance = ? AND scheme = ? AND scene_id IN (SELECT value FROM json_each(?))`,
  );
  const ofShow = db.query<Raw, [string, string]>(
    `SELECT ${COLUMNS} FROM tv_placements WHERE instance = ? AND show_id = ? ORDER BY season, episode`,
  );
  const ofSeason = db.query<Raw, [string, string, number]>(
    `SELECT ${COLUMNS} FROM tv_placements WHERE instance = ? AND show_id = ? AND season = ? ORDER BY episode`,
  );
  const ofSeasonRange = db.query<Raw, [string, string, number, number, number]>(
    `SELECT ${COLUMNS} FROM tv_placements WHERE instance = ? AND show_id = ? AND season = ? ORDER BY episode LIMIT ? OFFSET ?`,
  );
  const remove = db.query<unknown, [string, string, string]>(
    "DELETE FROM tv_placements WHERE instance = ? AND scheme = ? AND scene_id = ?",
  );
  const insert = db.query<
    unknown,
    [string, string, string, string, string, number, number, string, string, string, string]
  >(`INSERT INTO tv_placements (instance, ${COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`);
  // A show's title is its rows' (a studio renamed renames them all at once, see catalog.ts).
  const showsQuery = db.query<{ id: string; title: string; seasons: number; episodes: number }, [string]>(
    `SELECT show_id AS id, MAX(show_title) AS title, COUNT(DISTINCT season) AS seasons, COUNT(*) AS episodes
     FROM tv_placements WHERE instance = ? GROUP BY show_id ORDER BY show_title COLLATE NOCASE, show_id`,
  );
  const showQuery = db.query<{ id: string; title: string; seasons: number; episodes: number }, [string, string]>(
    `SELECT show_id AS id, MAX(show_title) AS title, COUNT(DISTINCT season) AS seasons, COUNT(*) AS episodes
     FROM tv_placements WHERE instance = ? AND show_id = ? GROUP BY show_id`,
  );
  const seasonsQuery = db.query<{ season: number; episodes: number }, [string, string]>(
    `SELECT season, COUNT(*) AS episodes FROM tv_placements WHERE instance = ? AND show_id = ?
     GROUP BY season ORDER BY season`,
  );
  const titleOf = db.query<{ show_title: string }, [string, string]>(
    "SELECT show_title FROM tv_placements WHERE instance = ? AND show_id = ? LIMIT 1",
  );
  const linkOfShow = db.query<{ link: string }, [string, string]>(
    "SELECT link FROM tv_placements WHERE instance = ? AND show_id = ? LIMIT 1",
  );
  const count = db.query<{ n: number }, [string]>("SELECT COUNT(*) AS n FROM tv_placements WHERE instance = ?");

  return {
    /** Every placement of one scheme of an instance. */
    all: (instance: string, scheme: ShowScheme): PlacementRow[] => all.all(instance, scheme).map(rowOf),
    get: (instance: string, scheme: ShowScheme, sceneId: string): PlacementRow | undefined => {
      const r = one.get(instance, scheme, sceneId);
      return r ? rowOf(r) : undefined;
    },
    /** Many scenes' placements in one scheme, by scene. */
    getMany: (instance: string, scheme: ShowScheme, sceneIds: readonly string[]): Map<string, PlacementRow> =>
      new Map(many.all(instance, scheme, JSON.stringify(sceneIds)).map((r) => [r.scene_id, rowOf(r)])),
    /** A show's placements, by season then episode (one season's when given, a slice of it with `range`). */
    episodes: (instance: string, showId: string, season?: number, range?: EpisodeRange): PlacementRow[] =>
      (season === undefined
        ? ofShow.all(instance, showId)
        : range
          ? ofSeasonRange.all(instance, showId, season, range.size, range.start)
          : ofSeason.all(instance, showId, season)
      ).map(rowOf),
    shows: (instance: string): ShowSummary[] => showsQuery.all(instance),
    show: (instance: string, showId: string): ShowSummary | undefined => showQuery.get(instance, showId) ?? undefined,
    seasons: (instance: string, showId: string): SeasonSummary[] =>
      seasonsQuery.all(instance, showId).map((s) => ({ showId, season: s.season, episodes: s.episodes })),
    /** A show's title as its rows have it (undefined: no such show yet). */
    showTitle: (instance: string, showId: string): string | undefined => titleOf.get(instance, showId)?.show_title,
    /** The folder a show's links are in (the first part of any of its links); undefined: no such show yet. */
    showFolder: (instance: string, showId: string): string | undefined =>
      linkOfShow.get(instance, showId)?.link.split("/")[0],
    count: (instance: string): number => count.get(instance)?.n ?? 0,
    /**
     * Applies one pass's outcome at once: `gone` scenes lose their row, `put` rows replace
     * theirs. All removals come first, so a number handed from one scene to another in the
     * same pass never trips the (show, season, episode) uniqueness.
     */
    apply(instance: string, scheme: ShowScheme, gone: Iterable<string>, put: readonly PlacementRow[]) {
      db.transaction(() => {
        for (const sceneId of gone) remove.run(instance, scheme, sceneId);
        for (const r of put) remove.run(instance, scheme, r.sceneId);
        for (const r of put)
          insert.run(
            instance,
            r.sceneId,
            scheme,
            r.showId,
            r.showTitle,
            r.season,
            r.episode,
            r.want,
            r.title,
            r.path,
            r.link,
          );
      })();
    },
  };
}
