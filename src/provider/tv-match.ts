/**
 * The TV provider's match: which show, season or episode a file is. Evidence, best first:
 * our own GUID; the id tokens stash2plex writes into the episode folder's names (a show's
 * `{s2p-st12}` in its folder, an episode's `{s2p-st-42}` in its file name), which match
 * exactly; then names and numbers: a show whose title equals the one PMS parsed (only when
 * exactly one show has it: never a guess between two), a season by its number, an episode by
 * its season and episode numbers. During a scan PMS matches only the show (then places each
 * file by its SxxEyy); episode matches come from Fix Match, which also finds a scene by typed
 * title words or a typed scene id and lists candidates with their show, season and episode.
 */
import type { StashClient } from "../stash/client.ts";
import { indexedTitle, type FileIndex } from "../stash/file-index.ts";
import type { MatchRequest, PlexMetadata } from "../schema/plex.ts";
import type { Placement, ShowSummary, TvCatalog } from "../tv/types.ts";
import type { ShowScheme } from "../domain/ref.ts";
import { refFromGuid, SHOW_SCHEMES } from "../domain/ref.ts";
import { sceneTitle } from "../domain/scene.ts";
import { wordsOf } from "../text.ts";
import { tokenOf } from "../tv/names.ts";
import { cluesFrom, scoreCandidate, searchWords } from "./score.ts";
import { parseTvKey, seasonToMetadata, showPoster, showToMetadata, type TvContext } from "./tv-metadata.ts";
import type { TvItems } from "./tv-items.ts";

export interface TvMatchDeps {
  catalog: TvCatalog;
  stash: Pick<StashClient, "scenesWithTitleWords">;
  index: Pick<FileIndex, "ready" | "scene" | "scenesWithTitleWords">;
  tv: TvContext;
  items: Pick<TvItems, "episodes">;
}

/** The show a name's `{s2p-…}` token names (src/tv/names.ts writes and reads them). */
const showTokenOf = (text: string | undefined) => {
  const token = text ? tokenOf(text.trim()) : null;
  return token?.kind === "show" ? token.showId : undefined;
};
const episodeTokenOf = (text: string | undefined) => {
  const token = text ? tokenOf(text.trim()) : null;
  return token?.kind === "episode" ? token : undefined;
};
const SEASON_FOLDER = /^(?:season\s*(\d{1,4})|specials)$/i;
const MAX_MANUAL = 10;
const EXACT = 100;
/** Equal names, or equal numbers under a show found so: strong enough for an automatic match. */
const BY_NAME = 95;
/** Listed in Fix Match only. */
const WEAK = 80;

const truthy = (v: unknown) => v === true || v === 1 || v === "1" || v === "true";
const toIndex = (v: unknown) => {
  const n = typeof v === "number" ? v : typeof v === "string" && /^\d{1,4}$/.test(v.trim()) ? Number(v) : NaN;
  return Number.isInteger(n) && n >= 0 ? n : undefined;
};
/** A name as compared: without our tokens, trimmed, lower case. */
const nameOf = (text: string | undefined) =>
  (text ?? "")
    .replace(/\{s2p-[^}]*\}/g, " ")
    .trim()
    .replace(/\s+/g, " ")
    .toLowerCase();

/** The folders and the name of PMS's relative `filename`. */
function pathParts(filename: string | undefined) {
  const segments = (filename ?? "").split(/[\\/]/).filter(Boolean);
  return { folders: segments.slice(0, -1), name: segments.at(-1) ?? "" };
}

/** The show, season or episode one of our TV GUIDs names (PMS sends the item's GUID on a re-match). */
function tvKeyOfGuid(guid: string | undefined, tv: TvContext) {
  const ref = refFromGuid(guid, [{ id: tv.instance, identifier: tv.ctx.identifier, tvIdentifier: tv.tvIdentifier }]);
  return ref && ref.kind !== "scene" ? parseTvKey(ref.id) : null;
}

interface Found<T> {
  item: T;
  score: number;
}

/** The shows the request names, best first: GUID, tokens (exact), then the title (unique, else weak). */
function findShows(
  req: MatchRequest,
  title: string | undefined,
  deps: TvMatchDeps,
  manual: boolean,
): Found<ShowSummary>[] {
  const { catalog } = deps;
  const out: Found<ShowSummary>[] = [];
  const add = (show: ShowSummary | undefined, score: number) => {
    if (show && !out.some((f) => f.item.id === show.id)) out.push({ item: show, score });
  };
  const guidKey = tvKeyOfGuid(req.guid, deps.tv);
  if (guidKey && guidKey.kind !== "episode") add(catalog.show(guidKey.showId), EXACT);
  if (guidKey?.kind === "episode") {
    const placed = catalog.placementOf(guidKey.scheme, guidKey.sceneId);
    if (placed) add(catalog.show(placed.showId), EXACT);
  }
  const { folders, name } = pathParts(req.filename);
  for (const text of [title, ...folders.toReversed()]) {
    const token = showTokenOf(text);
    if (token) add(catalog.show(token), EXACT);
  }
  const episode = episodeTokenOf(name);
  if (episode) {
    const placed = catalog.placementOf(episode.scheme, episode.sceneId);
    if (placed) add(catalog.show(placed.showId), EXACT);
  }
  if (out.length && !manual) return out;
  const wanted = nameOf(title);
  if (wanted) {
    const named = catalog.shows().filter((s) => nameOf(s.title) === wanted);
    // Two shows of one name (a studio and a group, say): only a person can tell.
    for (const show of named) add(show, named.length === 1 ? BY_NAME : WEAK);
    if (manual) {
      const words = wordsOf(wanted);
      if (words.length)
        for (const show of catalog.shows()) {
          const own = new Set(wordsOf(show.title));
          if (words.every((w) => own.has(w))) add(show, WEAK - 5);
        }
    }
  }
  return out.sort((a, b) => b.score - a.score);
}

/** A season's number: the request's, else its folder (`Season 2023`, `Specials`). */
function seasonNumber(req: MatchRequest, folders: string[]): number | undefined {
  const given = toIndex(req.index);
  if (given !== undefined) return given;
  for (const folder of folders.toReversed()) {
    const m = SEASON_FOLDER.exec(folder.trim());
    if (m) return m[1] ? Number(m[1]) : 0;
  }
  return undefined;
}

/** A show's seasons from the catalog alone: a show match needs no Stash round trip. */
function seasonsOf(show: ShowSummary, deps: TvMatchDeps) {
  const poster = showPoster(show.id, {}, deps.tv.ctx);
  const seasons = deps.catalog.seasons(show.id).map((s) => seasonToMetadata(show, s, poster, deps.tv));
  return { size: seasons.length, Metadata: seasons };
}

async function matchShows(req: MatchRequest, deps: TvMatchDeps, manual: boolean, children: boolean) {
  const found = findShows(req, req.title, deps, manual);
  const chosen = manual ? found.slice(0, MAX_MANUAL) : found.filter((f) => f.score >= BY_NAME).slice(0, 1);
  return chosen.map(({ item: show, score }) => ({
    ...showToMetadata(show, {}, deps.tv),
    score,
    ...(children ? { Children: seasonsOf(show, deps) } : {}),
  }));
}

async function matchSeasons(req: MatchRequest, deps: TvMatchDeps, manual: boolean, children: boolean) {
  const { folders } = pathParts(req.filename);
  const guidKey = tvKeyOfGuid(req.guid, deps.tv);
  const number = guidKey?.kind === "season" ? guidKey.season : seasonNumber(req, folders);
  if (number === undefined) return [];
  const shows = findShows(req, req.parentTitle ?? req.title, deps, manual);
  const out: PlexMetadata[] = [];
  for (const { item: show, score } of shows) {
    if (!manual && score < BY_NAME) continue;
    const season = deps.catalog.seasons(show.id).find((s) => s.season === number);
    if (!season) continue;
    const item: PlexMetadata = {
      ...seasonToMetadata(show, season, showPoster(show.id, {}, deps.tv.ctx), deps.tv),
      score,
    };
    if (children) {
      const episodes = await deps.items.episodes(deps.catalog.episodes(show.id, number));
      item.Children = { size: episodes.length, Metadata: episodes };
    }
    out.push(item);
    if (!manual || out.length >= MAX_MANUAL) break;
  }
  return out;
}

/** Scenes whose titles hold every typed word: from the file index when built, else from Stash. */
async function scenesTitled(words: string[], deps: TvMatchDeps) {
  if (deps.index.ready)
    return deps.index
      .scenesWithTitleWords(words)
      .map((s) => ({ id: s.id, title: indexedTitle(s), date: s.date ?? undefined, studio: s.studio }));
  return (await deps.stash.scenesWithTitleWords(words, 25)).map((s) => ({
    id: s.id,
    title: sceneTitle(s),
    date: s.date ?? undefined,
    studio: s.studio?.name,
  }));
}

async function matchEpisodes(req: MatchRequest, deps: TvMatchDeps, manual: boolean) {
  const { catalog } = deps;
  const { folders, name } = pathParts(req.filename);
  const found: Found<Placement>[] = [];
  const add = (p: Placement | undefined, score: number) => {
    if (p && !found.some((f) => f.item.scheme === p.scheme && f.item.sceneId === p.sceneId))
      found.push({ item: p, score });
  };
  const guidKey = tvKeyOfGuid(req.guid, deps.tv);
  if (guidKey?.kind === "episode") add(catalog.placementOf(guidKey.scheme, guidKey.sceneId), EXACT);
  for (const text of [name, req.title]) {
    const token = episodeTokenOf(text);
    if (token) add(catalog.placementOf(token.scheme, token.sceneId), EXACT);
  }
  // The show (by its token, or its one show of that name) and the numbers PMS read: an exact place.
  const shows = findShows({ ...req, guid: undefined }, req.grandparentTitle, deps, false).filter(
    (f) => f.score >= BY_NAME,
  );
  const season = toIndex(req.parentIndex) ?? seasonNumber({ type: 4 }, folders);
  const episode = toIndex(req.index);
  if ((manual || found.length === 0) && shows.length === 1 && season !== undefined && episode !== undefined)
    add(
      catalog.episodes(shows[0]!.item.id, season).find((p) => p.episode === episode),
      BY_NAME,
    );
  if (manual) {
    const schemes = shows.length === 1 ? [shows[0]!.item.id.slice(0, 2) as ShowScheme] : SHOW_SCHEMES;
    const placementsOf = (sceneId: string) => schemes.map((s) => catalog.placementOf(s, sceneId));
    const typed = req.title?.trim() ?? "";
    // A typed scene id (`42`) or episode id (`st-42`) names the scene outright.
    const id = /^(?:(st|sn|gr)-)?(\d{1,18})$/.exec(typed);
    if (id)
      for (const p of id[1] ? [catalog.placementOf(id[1] as ShowScheme, id[2]!)] : placementsOf(id[2]!)) add(p, EXACT);
    const words = searchWords(cluesFrom({ title: typed }));
    if (!id && words.length) {
      const clues = cluesFrom({ filename: req.filename, title: typed });
      const hits = (await scenesTitled(words, deps))
        .map((hit) => ({ hit, score: Math.min(99, 90 + Math.round(scoreCandidate(clues, hit) / 10)) }))
        .sort((a, b) => b.score - a.score);
      for (const { hit, score } of hits) {
        for (const p of placementsOf(hit.id)) add(p, score);
        if (found.length >= MAX_MANUAL * 2) break;
      }
    }
  }
  const chosen = manual
    ? found.sort((a, b) => b.score - a.score).slice(0, MAX_MANUAL)
    : found.filter((f) => f.score >= BY_NAME).slice(0, 1);
  // One Stash request for every candidate's scene.
  const metadata = await deps.items.episodes(chosen.map((f) => f.item));
  return metadata.map((m) => {
    const score = chosen.find((f) => m.ratingKey === `${f.item.scheme}-${f.item.sceneId}`)?.score ?? WEAK;
    // Fix Match shows where each candidate sits.
    const where = `${m.grandparentTitle} · S${m.parentIndex}E${m.index}`;
    return { ...m, score, ...(manual ? { title: `${m.title} (${where})` } : {}) };
  });
}

/** The TV match. Throws StashError when Stash cannot be asked (the route answers empty). */
export async function matchTv(req: MatchRequest, deps: TvMatchDeps): Promise<PlexMetadata[]> {
  const manual = truthy(req.manual);
  const children = truthy(req.includeChildren);
  switch (Number(req.type)) {
    case 2:
      return matchShows(req, deps, manual, children);
    case 3:
      return matchSeasons(req, deps, manual, children);
    case 4:
      return matchEpisodes(req, deps, manual);
    default:
      return [];
  }
}
