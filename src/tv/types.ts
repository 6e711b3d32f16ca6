/**
 * What a TV-style library is made of, as the TV provider, the push side and the dashboard read
 * it. src/tv/ builds it (placement, stable numbering, the episode folder); this file is the
 * contract between the parts.
 *
 * Layouts: `studio` — a show per studio (`st<studioId>`), or per top parent studio with
 * `parentStudio` (`sn<studioId>`); seasons are years of the scene's date, undated scenes go to
 * Season 0. `group` — a show per Stash group (`gr<groupId>`); scenes with an index in the group
 * are Season 1, episode = that index; scenes without one go to Season 0, numbered by date.
 * Episode numbers never change once given while the scene stays in its season (adding an older
 * scene later renumbers nothing: a renumbered episode loses its watched state in Plex).
 */
import type { ShowScheme } from "../domain/ref.ts";

/** Where one scene sits in a TV library. */
export interface Placement {
  sceneId: string;
  scheme: ShowScheme;
  /** `st12`, `sn12`, `gr3` (domain/ref.ts SHOW_ID). */
  showId: string;
  season: number;
  episode: number;
  /** The link's path inside the episode folder, e.g. `Studio A {s2p-st12}/Season 2023/Studio A - S2023E04120 - Title {s2p-st-42}.mp4`. */
  link: string;
}

/** A show as listed: its id, title and counts. */
export interface ShowSummary {
  id: string;
  title: string;
  seasons: number;
  episodes: number;
}

/** A season of a show with its episode count. */
export interface SeasonSummary {
  showId: string;
  season: number;
  episodes: number;
}

/** A slice of a season's episodes, in episode order. */
export interface EpisodeRange {
  start: number;
  size: number;
}

/** One instance's TV catalog: every placement of its TV libraries, read by the TV provider. */
export interface TvCatalog {
  readonly instance: string;
  shows(): ShowSummary[];
  show(showId: string): ShowSummary | undefined;
  seasons(showId: string): SeasonSummary[];
  /**
   * A show's episodes (of one season when given), ordered by season then episode; `range`: only
   * that slice of a season's (a page: a big season is thousands of rows).
   */
  episodes(showId: string, season?: number, range?: EpisodeRange): Placement[];
  /** A scene's place in shows of one scheme. */
  placementOf(scheme: ShowScheme, sceneId: string): Placement | undefined;
  /** Many scenes' places in one scheme, in one query (a page of a reconcile's scenes); placed ones only. */
  placementsOf(scheme: ShowScheme, sceneIds: readonly string[]): Map<string, Placement>;
}
