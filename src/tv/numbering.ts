/**
 * Stable episode numbers. A number once given never changes while the scene asks for the same
 * thing (same show, season and day or index: Place.want): Plex keeps watched state per
 * episode, and a renumbered episode would lose it. So numbers are never recomputed from the
 * whole season; the numbers already held are kept and only newcomers and movers get one:
 *
 * - studio layout, dated: MMDD*10 + k, k the first free slot of that day (04-12 → 4120..4129);
 *   past the tenth scene of a day, the next free number above. Adding an older scene later
 *   takes a free slot of its own day and renumbers nothing.
 * - group layout, indexed: the index when free; two scenes asking for one index at once: the
 *   lower scene id takes it, the other goes to Season 0 (a note says so). A scene already
 *   holding an index keeps it when another claims it later (stability wins).
 * - Season 0 (undated, or in a group without an index): the next number in order of arrival
 *   (newcomers of one pass by date, then id).
 *
 * Pure: rows in, rows out.
 */
import type { Claim } from "./placement.ts";

/** An episode number held (or to be held) by a scene. */
export interface Numbered {
  sceneId: string;
  showId: string;
  season: number;
  episode: number;
  /** Place.want at the time the number was given. */
  want: string;
}

/** What a scene asks for now (a Place, reduced to what numbering reads). */
export interface Wanted {
  sceneId: string;
  showId: string;
  season: number;
  claim: Claim;
  date: string | null;
  want: string;
}

/** Where a scene is placed against what it asked for (a group index taken by another scene). */
export interface NumberingNote {
  sceneId: string;
  message: string;
}

const seasonKey = (showId: string, season: number) => `${showId}/${season}`;
const byId = (a: { sceneId: string }, b: { sceneId: string }) =>
  Number(a.sceneId) - Number(b.sceneId) || (a.sceneId < b.sceneId ? -1 : a.sceneId > b.sceneId ? 1 : 0);
/** Arrival order: by date (undated last), then id. */
const byArrival = (a: Wanted, b: Wanted) =>
  (a.date ?? "\uffff") < (b.date ?? "\uffff") ? -1 : (a.date ?? "\uffff") > (b.date ?? "\uffff") ? 1 : byId(a, b);

/** The numbers taken in each season (and by which scene), with each season's highest. */
class Taken {
  private used = new Map<string, Map<number, string>>();
  private top = new Map<string, number>();
  has(key: string, n: number) {
    return this.used.get(key)?.has(n) ?? false;
  }
  holder(key: string, n: number) {
    return this.used.get(key)?.get(n);
  }
  add(key: string, n: number, sceneId: string) {
    let season = this.used.get(key);
    if (!season) this.used.set(key, (season = new Map()));
    season.set(n, sceneId);
    if (n > (this.top.get(key) ?? 0)) this.top.set(key, n);
  }
  delete(key: string, n: number) {
    this.used.get(key)?.delete(n);
  }
  firstFree(key: string, from: number) {
    let n = from;
    while (this.has(key, n)) n++;
    return n;
  }
  next(key: string) {
    return this.firstFree(key, (this.top.get(key) ?? 0) + 1);
  }
}

/**
 * Numbers for `wanted` scenes. `fixed`: numbers held by scenes not looked at now (they only
 * occupy). `previous`: the numbers the wanted scenes held before (by scene id). Returns a
 * number for every wanted scene, and notes for scenes not placed where they asked.
 */
export function numberEpisodes(
  fixed: Iterable<Numbered>,
  previous: ReadonlyMap<string, Numbered>,
  wanted: readonly Wanted[],
): { numbered: Numbered[]; notes: NumberingNote[] } {
  const taken = new Taken();
  for (const row of fixed) taken.add(seasonKey(row.showId, row.season), row.episode, row.sceneId);
  const numbered: Numbered[] = [];
  const waiting: { wanted: Wanted; held?: Numbered }[] = [];
  for (const w of wanted) {
    const held = previous.get(w.sceneId);
    if (held && held.want === w.want) {
      // Asks for what it asked for: keeps its number. One that did not get its index (taken)
      // keeps its Season 0 number too, and takes the index once that is free.
      taken.add(seasonKey(held.showId, held.season), held.episode, held.sceneId);
      if (held.showId === w.showId && held.season === w.season) numbered.push(held);
      else waiting.push({ wanted: w, held });
    } else waiting.push({ wanted: w });
  }
  const notes: NumberingNote[] = [];
  const give = (w: Wanted, season: number, episode: number) => {
    taken.add(seasonKey(w.showId, season), episode, w.sceneId);
    numbered.push({ sceneId: w.sceneId, showId: w.showId, season, episode, want: w.want });
  };
  // Index claims first and by id (the lower id wins a shared index), then arrivals by date;
  // scenes whose index is taken come last to Season 0 (an exception, not an arrival).
  const claims = waiting.filter((x) => x.wanted.claim.kind === "index").sort((a, b) => byId(a.wanted, b.wanted));
  const others = waiting.filter((x) => x.wanted.claim.kind !== "index").sort((a, b) => byArrival(a.wanted, b.wanted));
  const refused: { wanted: Wanted; index: number; by: string }[] = [];
  for (const { wanted: w, held } of claims) {
    const key = seasonKey(w.showId, w.season);
    const index = (w.claim as { index: number }).index;
    if (!taken.has(key, index)) {
      if (held) taken.delete(seasonKey(held.showId, held.season), held.episode);
      give(w, w.season, index);
    } else if (held) {
      numbered.push(held);
      notes.push({
        sceneId: w.sceneId,
        message: `index ${index} is held by scene ${taken.holder(key, index)}: stays in Season 0`,
      });
    } else refused.push({ wanted: w, index, by: `scene ${taken.holder(key, index)}` });
  }
  for (const { wanted: w } of others) {
    const key = seasonKey(w.showId, w.season);
    if (w.claim.kind === "day") give(w, w.season, taken.firstFree(key, w.claim.day * 10));
    else give(w, w.season, taken.next(key));
  }
  for (const { wanted: w, index, by } of refused) {
    const episode = taken.next(seasonKey(w.showId, 0));
    give(w, 0, episode);
    notes.push({
      sceneId: w.sceneId,
      message: `index ${index} is held by ${by}: goes to Season 0 as episode ${episode}`,
    });
  }
  return { numbered, notes };
}
