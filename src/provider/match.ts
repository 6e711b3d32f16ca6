/**
 * The match ladder: best evidence first. 1) our own GUID; 2) `filename` through the path
 * rules to an exact Stash path; 3) the longest tail of the file's path (a folder and the
 * name, or more) that exactly one Stash file ends with: it works with no path rules at all;
 * 4) a file name that exactly one scene has, when something else agrees (see nameAgrees);
 * 5) a scored title/date/studio search. Automatic matches are only answered on strong
 * evidence: a wrong match is worse than none. Fix Match (`manual`) gets up to 10 ranked
 * candidates, the weak ones included.
 */
import type { PathMapper } from "../paths/mapper.ts";
import type { StashClient } from "../stash/client.ts";
import { indexedTitle, lastTwoSegments, type FileIndex } from "../stash/file-index.ts";
import type { StashScene } from "../schema/stash.ts";
import type { MatchRequest, PlexMetadata } from "../schema/plex.ts";
import { sceneDate, sceneImages, type MetadataContext } from "./metadata.ts";
import { DEFAULT_INSTANCE_ID, guidOf, plexTypeOf, ratingKeyOf, refFromGuid, sceneRef } from "../domain/ref.ts";
import { gateBits, sceneTitle } from "../domain/scene.ts";
import { cluesFrom, isConfidentSearchMatch, scoreCandidate, searchWords } from "./score.ts";
import { wordsOf } from "../text.ts";
import { refusalNote, refusedBy, type MatchGate } from "./gates.ts";

export type Evidence = "guid" | "path" | "identity" | "tail" | "basename" | "search";
/** identity: Fix Match only (a file's size and duration or fingerprint, sync/identity.ts), above a tail match. */
const EVIDENCE_SCORE: Record<Exclude<Evidence, "search">, number> = {
  guid: 100,
  path: 100,
  identity: 99,
  tail: 98,
  basename: 95,
};
/** A candidate worth listing in Fix Match, never answered automatically. */
const WEAK = 80;
const MAX_MANUAL = 10;

export interface MatchDeps {
  stash: Pick<StashClient, "sceneById" | "sceneByPath" | "scenesByBasename" | "scenesWithTitleWords">;
  index: Pick<
    FileIndex,
    | "ready"
    | "complete"
    | "sceneIdByPath"
    | "sceneIdsByBasename"
    | "sceneIdsByFolderAndName"
    | "scene"
    | "scenesWithTitleWords"
    | "scenesWithTitleWordsLike"
  >;
  mapper: PathMapper;
  ctx: MetadataContext;
  /** What an automatic match may claim (provider.matchOnly); empty: any scene. */
  matchOnly?: readonly MatchGate[];
  /**
   * Fix Match: the scenes the file may be by its size and duration or fingerprint (a copy whose
   * name tells nothing: sync/identity.ts), listed first and marked so.
   */
  byIdentity?: (filename: string) => { sceneId: string; how: "size+duration" | "oshash" }[];
}

interface Found {
  id: string;
  score: number;
  evidence: Evidence;
  scene?: StashScene;
  /** Found by what the file is, not its name (Fix Match says so beside the title). */
  identity?: "size+duration" | "oshash";
}

const truthy = (v: unknown) => v === true || v === 1 || v === "1" || v === "true";
const basenameOf = (path: string) => path.split(/[\\/]/).at(-1) ?? path;

/** Absolute Stash paths the request's filename may stand for, in rule order. */
function stashPathsFor(filename: string, mapper: PathMapper): string[] {
  const plexPaths = /^([A-Za-z]:)?[\\/]/.test(filename) ? [filename] : mapper.plexCandidates(filename);
  const out: string[] = [];
  for (const plexPath of plexPaths) {
    const mapped = mapper.toStash(plexPath);
    if (!mapped) continue;
    out.push(mapped.path);
    const nfd = mapped.path.normalize("NFD");
    if (nfd !== mapped.path) out.push(nfd);
  }
  return out;
}

/** `complete`: the index holds every scene Stash has now (see FileIndex.complete), so a miss needs no live query. */
async function byPath(filename: string, deps: MatchDeps, complete: boolean): Promise<Found | undefined> {
  for (const path of stashPathsFor(filename, deps.mapper)) {
    const indexed = deps.index.sceneIdByPath(path);
    if (indexed) return { id: indexed, score: EVIDENCE_SCORE.path, evidence: "path" };
    if (complete) continue;
    const live = await deps.stash.sceneByPath(path);
    if (live) return { id: live.id, score: EVIDENCE_SCORE.path, evidence: "path", scene: live };
  }
  return undefined;
}

/** A scene that has a file of the requested name, with what the tail and name rungs look at. */
interface Named {
  id: string;
  /** Its files, separators as `/`, NFC. */
  paths: string[];
  title?: string | null;
  date?: string | null;
  scene?: StashScene;
}

const slashed = (path: string) => path.normalize("NFC").replaceAll("\\", "/");
/** Most namesakes Fix Match lists by the bare name: a generic name (intro.mp4) may have thousands. */
const MAX_NAMESAKES = 25;

/**
 * Where the tail and name rungs look: the index, or when it may lack a scene (not complete)
 * one live query by file name, made at most once per request and shared by both rungs.
 */
function namedLookup(filename: string, deps: MatchDeps, complete: boolean) {
  const name = basenameOf(filename).normalize("NFC");
  const fromIndex = (ids: readonly string[]): Named[] =>
    [...new Set(ids)]
      .flatMap((id) => deps.index.scene(id) ?? [])
      .map((s) => ({ id: s.id, paths: s.paths.map(slashed), title: s.title, date: s.date }));
  let live: Promise<Named[]> | undefined;
  const liveNamed = () =>
    (live ??= deps.stash.scenesByBasename(name).then((scenes) =>
      scenes.map((scene) => ({
        id: scene.id,
        paths: scene.files.map((f) => slashed(f.path)),
        title: scene.title,
        date: scene.date,
        scene,
      })),
    ));
  return {
    name,
    /** Scenes with a file in a folder of the same name with the same name: the only ones a tail of two segments or more can match. */
    async endingLikeIt(): Promise<Named[]> {
      const key = lastTwoSegments(filename);
      if (!key.includes("/")) return [];
      const indexed = fromIndex(deps.index.sceneIdsByFolderAndName(key));
      if (indexed.length || complete) return indexed;
      return (await liveNamed()).filter((n) => n.paths.some((p) => p === key || p.endsWith(`/${key}`)));
    },
    /** Scenes with a file of this name, and how many there are (only the first MAX_NAMESAKES listed). */
    async named(): Promise<{ count: number; scenes: Named[] }> {
      const ids = deps.index.sceneIdsByBasename(name);
      if (ids.length || complete) return { count: new Set(ids).size, scenes: fromIndex(ids.slice(0, MAX_NAMESAKES)) };
      const scenes = await liveNamed();
      return { count: scenes.length, scenes: scenes.slice(0, MAX_NAMESAKES) };
    },
  };
}

/**
 * The tail rung: the longest tail of the file's path, two segments or more (a folder must
 * agree; the bare name is the next rung's), that Stash files end with at a segment boundary.
 * One scene: a match. Several scenes with that same longest tail: none is chosen automatically.
 */
function byTail(filename: string, named: Named[]): Found[] {
  const segments = filename.normalize("NFC").split(/[\\/]/).filter(Boolean);
  for (let k = segments.length; k >= 2; k--) {
    const tail = segments.slice(-k).join("/");
    const hits = named.filter((n) => n.paths.some((p) => p === tail || p.endsWith(`/${tail}`)));
    if (hits.length === 0) continue;
    const score = hits.length === 1 ? EVIDENCE_SCORE.tail : WEAK;
    return hits.map((n) => ({ id: n.id, score, evidence: "tail" as const, scene: n.scene }));
  }
  return [];
}

/**
 * A file name that one scene has is evidence only when something else agrees: the scene's
 * date or two of its title words are in the name, or the name is too distinctive to collide
 * (three words of three letters or more). `intro.mp4`, `scene.mp4`, `IMG_0042.mp4` are not.
 */
export function nameAgrees(name: string, scene: { title?: string | null; date?: string | null }): boolean {
  const clues = cluesFrom({ filename: name });
  if (scene.date && clues.date === scene.date) return true;
  const titleWords = new Set(wordsOf(scene.title ?? ""));
  if (clues.words.filter((w) => titleWords.has(w)).length >= 2) return true;
  return clues.words.filter((w) => /\p{L}{3,}/u.test(w)).length >= 3;
}

/** The name rung: a name one scene has is strong only when something else agrees (nameAgrees). */
function byBasename(name: string, named: { count: number; scenes: Named[] }): Found[] {
  const strong = named.count === 1 && nameAgrees(name, named.scenes[0]!);
  return named.scenes.map((n) => ({
    id: n.id,
    score: strong ? EVIDENCE_SCORE.basename : WEAK,
    evidence: "basename" as const,
    scene: n.scene,
  }));
}

const yearOf = (req: MatchRequest) => (req.year === undefined ? undefined : Number(req.year) || undefined);

interface SearchHit {
  id: string;
  title: string;
  date?: string;
  studio?: string;
  scene?: StashScene;
}

/** Scenes whose titles hold every word: from our index when it is built, else from Stash. */
async function titleSearch(words: string[], deps: MatchDeps): Promise<SearchHit[]> {
  if (deps.index.ready) {
    return deps.index.scenesWithTitleWords(words).map((s) => ({
      id: s.id,
      title: indexedTitle(s),
      date: s.date ?? undefined,
      studio: s.studio,
    }));
  }
  return (await deps.stash.scenesWithTitleWords(words, 25)).map((scene) => ({
    id: scene.id,
    title: sceneTitle(scene),
    date: scene.date ?? undefined,
    studio: scene.studio?.name,
    scene,
  }));
}

async function bySearch(req: MatchRequest, deps: MatchDeps): Promise<Found[]> {
  const clues = cluesFrom({ filename: req.filename, title: req.title, year: yearOf(req) });
  const words = searchWords(clues);
  if (words.length === 0) return [];
  // Stash has no relevance ranking, so ask precisely: titles holding every word. Dirty names
  // often carry words the title lacks (performers, studio), so a miss is retried with the two
  // longest words alone; the score then decides.
  let hits = await titleSearch(words, deps);
  const longest = [...words].sort((a, b) => b.length - a.length).slice(0, 2);
  if (hits.length === 0 && longest.length < words.length) hits = await titleSearch(longest, deps);
  return hits
    .map((hit) => ({ id: hit.id, scene: hit.scene, evidence: "search" as const, score: scoreCandidate(clues, hit) }))
    .sort((a, b) => b.score - a.score);
}

/**
 * Fix Match with a typed title: the title leads. Scenes whose titles hold every typed word
 * come first, then those that hold them but for a typo or two; the file's words only move a
 * score, so a renamed copy or a camera-style name does not hide the scene.
 */
async function byTypedTitle(req: MatchRequest, deps: MatchDeps): Promise<Found[]> {
  const typed = searchWords(cluesFrom({ title: req.title }));
  if (typed.length === 0) return [];
  const clues = cluesFrom({ filename: req.filename, title: req.title, year: yearOf(req) });
  // Exact hits score 90–100 (the person said so; the file's words order them), fuzzy ones below every exact one.
  const exact = (await titleSearch(typed, deps))
    .map((hit) => ({
      id: hit.id,
      scene: hit.scene,
      evidence: "search" as const,
      score: 90 + Math.round(scoreCandidate(clues, hit) / 10),
    }))
    .sort((a, b) => b.score - a.score);
  if (!deps.index.ready) return exact;
  const exactIds = new Set(exact.map((f) => f.id));
  const ceiling = Math.min(89, ...exact.map((f) => f.score - 1));
  const fuzzy = deps.index
    .scenesWithTitleWordsLike(typed)
    .filter((s) => !exactIds.has(s.id))
    .map((s) => ({
      id: s.id,
      evidence: "search" as const,
      score: Math.min(
        ceiling,
        scoreCandidate(clues, { title: indexedTitle(s), date: s.date ?? undefined, studio: s.studio }),
      ),
    }))
    .sort((a, b) => b.score - a.score);
  return [...exact, ...fuzzy];
}

/** The gates a found scene fails (none when no gate is set). */
function refused(found: Found, deps: MatchDeps): MatchGate[] {
  if (!deps.matchOnly?.length) return [];
  const bits = found.scene ? gateBits(found.scene) : (deps.index.scene(found.id)?.gates ?? 0);
  return refusedBy(deps.matchOnly, bits);
}

function candidate(found: Found, deps: MatchDeps, detailed: boolean): PlexMetadata {
  const indexed = deps.index.scene(found.id);
  const scene = found.scene;
  const named = scene ? sceneTitle(scene) : indexed ? indexedTitle(indexed) : `Scene ${found.id}`;
  // Fix Match lists what an automatic match would refuse, and says why.
  const refusal = detailed ? refusalNote(refused(found, deps)) : "";
  const marks = [
    found.identity === "oshash"
      ? "same fingerprint as this file"
      : found.identity
        ? "same size and duration as this file"
        : "",
    refusal,
  ].filter(Boolean);
  const title = marks.length ? `${named} (${marks.join("; ")})` : named;
  const date = scene ? sceneDate(scene) : (indexed?.date ?? undefined);
  const ref = sceneRef(DEFAULT_INSTANCE_ID, found.id);
  const meta: PlexMetadata = {
    type: plexTypeOf(ref.kind),
    ratingKey: ratingKeyOf(ref),
    key: `/library/metadata/${ratingKeyOf(ref)}`,
    guid: guidOf(deps.ctx.identifier, ref),
    title,
    score: found.score,
  };
  if (date && /^\d{4}-\d{2}-\d{2}$/.test(date)) {
    meta.originallyAvailableAt = date;
    meta.year = Number(date.slice(0, 4));
  }
  if (detailed && scene) {
    const thumb = sceneImages(scene, deps.ctx)[0]?.url;
    if (thumb) meta.thumb = thumb;
    if (scene.details?.trim()) meta.summary = scene.details.trim();
  }
  return meta;
}

/** Runs the ladder. Throws StashError when Stash cannot be asked (the route answers empty). */
export async function matchScenes(req: MatchRequest, deps: MatchDeps): Promise<PlexMetadata[]> {
  const manual = truthy(req.manual);
  const found: Found[] = [];
  const seen = new Set<string>();
  const add = (items: Found[]) => items.forEach((f) => !seen.has(f.id) && (seen.add(f.id), found.push(f)));

  const guidId = refFromGuid(req.guid, [{ id: DEFAULT_INSTANCE_ID, identifier: deps.ctx.identifier }])?.id;
  if (guidId) {
    const scene = await deps.stash.sceneById(guidId);
    if (scene) add([{ id: scene.id, score: EVIDENCE_SCORE.guid, evidence: "guid", scene }]);
  }
  let ambiguous = false;
  if (req.filename && (manual || found.length === 0)) {
    const complete = await deps.index.complete();
    const exact = await byPath(req.filename, deps, complete);
    if (exact) add([exact]);
    if (manual || found.length === 0) {
      const lookup = namedLookup(req.filename, deps, complete);
      const tails = byTail(req.filename, await lookup.endingLikeIt());
      ambiguous = tails.length > 1;
      add(tails);
      if (manual || found.length === 0) add(byBasename(lookup.name, await lookup.named()));
    }
  }

  const strong = found.find((f) => f.score >= EVIDENCE_SCORE.basename);
  if (!manual) {
    // The evidence names a scene the gates refuse: no automatic match (never another scene instead).
    if (strong) return refused(strong, deps).length ? [] : [candidate(strong, deps, false)];
    // Several Stash files share the file's longest tail: only a person can tell (Fix Match).
    if (ambiguous) return [];
    const results = await bySearch(req, deps);
    const [best, next] = results;
    const confident = best && isConfidentSearchMatch(best.score, next?.score) && refused(best, deps).length === 0;
    return confident ? [candidate(best, deps, false)] : [];
  }

  if (req.filename && deps.byIdentity)
    add(
      deps.byIdentity(req.filename).map((c) => ({
        id: c.sceneId,
        score: EVIDENCE_SCORE.identity,
        evidence: "identity" as const,
        identity: c.how,
      })),
    );
  if (req.title?.trim()) add(await byTypedTitle(req, deps));
  if (found.length < MAX_MANUAL) add(await bySearch(req, deps));
  const top = found.sort((a, b) => b.score - a.score).slice(0, MAX_MANUAL);
  // Fix Match shows thumbs and summaries: fetch the scenes we only know from the index, in one batch.
  await Promise.all(top.filter((f) => !f.scene).map(async (f) => (f.scene = await deps.stash.sceneById(f.id))));
  return top.filter((f) => f.scene || deps.index.scene(f.id)).map((f) => candidate(f, deps, true));
}

export interface RungReport {
  rung: string;
  /** Scene ids this rung names, best first, with scores. */
  found: { id: string; score: number }[];
  note: string;
}

/**
 * The ladder rung by rung for one file name, as the dashboard's path tester shows it: what
 * each rung finds and why it does or does not decide, then what PMS would be answered.
 */
export async function explainLadder(
  filename: string,
  deps: MatchDeps,
): Promise<{ rungs: RungReport[]; answer: { id: string; score: number }[] }> {
  const complete = await deps.index.complete();
  const ids = (found: Found[]) => found.map((f) => ({ id: f.id, score: f.score }));
  const tried = stashPathsFor(filename, deps.mapper);
  const exact = await byPath(filename, deps, complete);
  const lookup = namedLookup(filename, deps, complete);
  const tails = byTail(filename, await lookup.endingLikeIt());
  const named = await lookup.named();
  const names = byBasename(lookup.name, named);
  const search = (await bySearch({ filename, type: 1 }, deps)).slice(0, 5);
  const rungs: RungReport[] = [
    {
      rung: "path (through the rules)",
      found: exact ? ids([exact]) : [],
      note: tried.length
        ? `looked for ${tried.join(", ")}`
        : "no rule maps it (PMS sends it relative to a library folder: give plexRoots)",
    },
    {
      rung: "tail of the path",
      found: ids(tails),
      note:
        tails.length > 1
          ? "several Stash files end the same: only Fix Match can choose"
          : tails.length
            ? "one Stash file ends with it"
            : "no Stash file ends with its folder and name",
    },
    {
      rung: "file name",
      found: ids(names),
      note:
        named.count === 0
          ? "no Stash file has this name"
          : names[0]?.score === EVIDENCE_SCORE.basename
            ? "one scene has it, and its date or title agree"
            : `${named.count} scene(s) have it; not evidence enough alone`,
    },
    {
      rung: "title search",
      found: ids(search),
      note: search.length ? "scored by title, date and studio words" : "no title holds its words",
    },
  ];
  const answer = (await matchScenes({ filename, type: 1 }, deps)).map((m) => ({
    id: m.ratingKey,
    score: m.score ?? 0,
  }));
  return { rungs, answer };
}
