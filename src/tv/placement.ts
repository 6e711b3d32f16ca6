/**
 * Where a scene belongs in a TV-style library, before any episode number is given: its show
 * (a studio, a top parent studio or a group), its season and what number it asks for.
 * Pure: the scene in, a place (or the reason there is none) out. Numbering is numbering.ts's job.
 */
import type { ShowScheme } from "../domain/ref.ts";
import type { StashTvScene } from "../schema/stash.ts";

/** What placement needs of a scene (the full StashScene the push side holds has all of it too). */
export type TvScene = Pick<StashTvScene, "id" | "title" | "date" | "studio" | "groups" | "files">;

/** The layout a library asks for, as the scheme of its shows: st (studio), sn (top parent studio), gr (group). */
export type Layout = { layout: "studio" | "group"; parentStudio: boolean };
export const schemeOf = (layout: Layout): ShowScheme =>
  layout.layout === "group" ? "gr" : layout.parentStudio ? "sn" : "st";

/**
 * The number a scene asks for within its season: a day's slot range (studio layout, dated:
 * `day` is MMDD, episodes MMDD*10 + k), its index in a group, or the next number on arrival
 * (Season 0 of both layouts).
 */
export type Claim = { kind: "day"; day: number } | { kind: "index"; index: number } | { kind: "arrival" };

export interface Place {
  sceneId: string;
  scheme: ShowScheme;
  showId: string;
  showTitle: string;
  season: number;
  claim: Claim;
  /** The scene's date (YYYY-MM-DD) when it has a valid one: arrivals are numbered in date order. */
  date: string | null;
  /**
   * What the scene asks for, as one key: the number it was given stays while this key stays
   * (same show, same season, same day or index). `st12/2023/d412`, `gr3/1/i4`, `st12/0/-`.
   */
  want: string;
}

export type Placed = { ok: true; place: Place } | { ok: false; reason: string };

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

/** The year and MMDD of a valid date (Stash stores YYYY-MM-DD; anything else counts as undated). */
export function dayOf(date: string | null | undefined): { year: number; day: number } | null {
  const m = DATE.exec(date ?? "");
  if (!m) return null;
  const [year, month, dayOfMonth] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (year < 1 || month < 1 || month > 12 || dayOfMonth < 1 || dayOfMonth > 31) return null;
  return { year, day: month * 100 + dayOfMonth };
}

const wantOf = (showId: string, season: number, claim: Claim) =>
  `${showId}/${season}/${claim.kind === "day" ? `d${claim.day}` : claim.kind === "index" ? `i${claim.index}` : "-"}`;

/** A usable group index: Plex episode numbers are whole and not negative. */
const indexOf = (n: number | null | undefined) =>
  typeof n === "number" && Number.isInteger(n) && n >= 0 && n < 1_000_000 ? n : null;

/**
 * The group a scene goes to in the group layout. An episode id is the scheme and the scene
 * (`gr-42`), so a scene is one episode of one group show: the first group in which it has an
 * index, else its first group, by group id.
 */
function groupOf(scene: TvScene) {
  const byId = [...scene.groups].sort((a, b) => Number(a.group.id) - Number(b.group.id));
  return byId.find((g) => indexOf(g.scene_index) !== null) ?? byId[0];
}

/** A scene's place in shows of one scheme, or why it has none. */
export function placeScene(scene: TvScene, scheme: ShowScheme): Placed {
  if (scene.files.length === 0) return { ok: false, reason: "no file (nothing to link)" };
  const dated = dayOf(scene.date);
  const date = dated ? scene.date! : null;
  const done = (showId: string, showTitle: string, season: number, claim: Claim): Placed => ({
    ok: true,
    place: { sceneId: scene.id, scheme, showId, showTitle, season, claim, date, want: wantOf(showId, season, claim) },
  });
  if (scheme === "gr") {
    const entry = groupOf(scene);
    if (!entry) return { ok: false, reason: "in no group" };
    const index = indexOf(entry.scene_index);
    const showId = `gr${entry.group.id}`;
    return index === null
      ? done(showId, entry.group.name, 0, { kind: "arrival" })
      : done(showId, entry.group.name, 1, { kind: "index", index });
  }
  if (!scene.studio) return { ok: false, reason: "no studio" };
  const show = scheme === "sn" ? (scene.studio.parent_studio ?? scene.studio) : scene.studio;
  const showId = `${scheme}${show.id}`;
  return dated
    ? done(showId, show.name, dated.year, { kind: "day", day: dated.day })
    : done(showId, show.name, 0, { kind: "arrival" });
}
