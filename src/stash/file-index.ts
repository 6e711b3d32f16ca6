/**
 * An in-memory index of every Stash scene file (path → scene, basename → scenes, title word
 * → scenes), built by paging through Stash once and then kept fresh with `updated_at` deltas.
 * It lets a match by path, name or title answer without a Stash round trip; a path miss
 * still falls back to a live lookup, so a scene added since the last refresh is found too.
 */
import type { StashSceneFiles } from "../schema/stash.ts";
import { gateBits, sceneTitle } from "../domain/scene.ts";
import { typoAllowance, withinEdits, wordsOf } from "../text.ts";
import type { StashClient } from "./client.ts";
import { secondOf, textMax } from "./stamps.ts";
import { pages as readPages } from "../paging.ts";

export interface IndexedScene {
  id: string;
  title?: string | null;
  date?: string | null;
  studio?: string;
  paths: string[];
  /** Organized / StashDB id / URL, as bits (see provider/gates.ts). */
  gates?: number;
}

/** The title Plex would show for an indexed scene (same fallback to the file name as the metadata). */
export const indexedTitle = (s: IndexedScene) => sceneTitle({ id: s.id, title: s.title, files: s.paths.map((path) => ({ path })) });

/** Most candidates a title search returns: enough to score, few enough to stay fast. */
const MAX_TITLE_HITS = 500;

const basenameOf = (path: string) => path.split(/[\\/]/).at(-1) ?? path;
/** A file's folder and name, `/`-separated: the key of the tail rung (a tail is never shorter). */
export const lastTwoSegments = (path: string) => path.normalize("NFC").split(/[\\/]/).filter(Boolean).slice(-2).join("/");
const PAGE = 1000;

/**
 * key → scene ids, stored as a bare string while a key has one id (nearly every file name and
 * many title words): a Set per key would cost several times the memory of the index itself.
 */
class IdsByKey {
  private map = new Map<string, string | string[]>();
  /** The caller adds an id under a key at most once (put() removes a scene before re-adding it). */
  add(key: string, id: string) {
    const cur = this.map.get(key);
    if (cur === undefined) this.map.set(key, id);
    else if (typeof cur === "string") this.map.set(key, [cur, id]);
    else cur.push(id);
  }
  delete(key: string, id: string) {
    const cur = this.map.get(key);
    if (cur === id) this.map.delete(key);
    else if (Array.isArray(cur)) {
      const rest = cur.filter((x) => x !== id);
      this.map.set(key, rest.length === 1 ? rest[0]! : rest);
    }
  }
  keys(): IterableIterator<string> {
    return this.map.keys();
  }
  get(key: string): readonly string[] {
    const cur = this.map.get(key);
    return cur === undefined ? [] : typeof cur === "string" ? [cur] : cur;
  }
}

/** Deltas cannot see deleted scenes or moved files; a full rebuild this often catches them. */
const FULL_REBUILD_MS = 60 * 60 * 1000;
/**
 * How old the index may be for a miss to be answered from it. Older, a miss first loads the
 * delta (one small query, shared by concurrent lookups): a scan of many files Stash lacks costs
 * one Stash query per this interval instead of two per file.
 */
const FRESH_MS = 2000;

export function createFileIndex(stash: Pick<StashClient, "sceneFilesPage" | "scenesStampedBetween">, now: () => number = Date.now) {
  let byPath = new Map<string, string>();
  let byBasename = new IdsByKey();
  let byFolderAndName = new IdsByKey();
  let scenes = new Map<string, IndexedScene>();
  let byWord = new IdsByKey();
  let watermark: string | undefined;
  let ready = false;
  let builtAt = 0;
  let refreshedAt = 0;
  let refreshing: Promise<number> | undefined;

  const titleWords = (s: IndexedScene) => wordsOf(indexedTitle(s));

  function remove(id: string) {
    const old = scenes.get(id);
    if (!old) return;
    for (const path of old.paths) {
      if (byPath.get(path) === id) byPath.delete(path);
      byBasename.delete(basenameOf(path), id);
      byFolderAndName.delete(lastTwoSegments(path), id);
    }
    for (const word of titleWords(old)) byWord.delete(word, id);
    scenes.delete(id);
  }

  function put(scene: StashSceneFiles) {
    remove(scene.id);
    const paths = scene.files.map((f) => f.path.normalize("NFC"));
    const indexed: IndexedScene = { id: scene.id, title: scene.title, date: scene.date, studio: scene.studio?.name, paths, gates: gateBits(scene) };
    scenes.set(scene.id, indexed);
    for (const path of paths) {
      byPath.set(path, scene.id);
      byBasename.add(basenameOf(path), scene.id);
      byFolderAndName.add(lastTwoSegments(path), scene.id);
    }
    for (const word of titleWords(indexed)) byWord.add(word, scene.id);
    // Stash compares its stamps as text (see stamps.ts): keep the greatest in that order.
    watermark = watermark === undefined ? scene.updated_at : textMax(watermark, scene.updated_at);
  }

  /**
   * Scenes stamped in or after the watermark's second, in one answer (pages would shift under
   * edits made while we page). A change hidden by a DST switch waits for the hourly rebuild;
   * a match meanwhile falls back to a live lookup.
   */
  async function loadDelta(since: string): Promise<number> {
    const items = await stash.scenesStampedBetween(secondOf(since));
    items.forEach(put);
    refreshedAt = now();
    return items.length;
  }

  /** Pages through every scene, then swaps in fresh maps in one synchronous step: lookups never see a half-built index. */
  async function rebuild(): Promise<number> {
    const pages: StashSceneFiles[][] = [];
    for await (const { items } of readPages(PAGE, (i) => stash.sceneFilesPage(i + 1, PAGE))) pages.push(items);
    byPath = new Map();
    byBasename = new IdsByKey();
    byFolderAndName = new IdsByKey();
    scenes = new Map();
    byWord = new IdsByKey();
    pages.flat().forEach(put);
    ready = true;
    builtAt = refreshedAt = now();
    return scenes.size;
  }

  const rebuildDue = () => !ready || !watermark || now() - builtAt > FULL_REBUILD_MS;
  function refresh(): Promise<number> {
    refreshing ??= (rebuildDue() ? rebuild() : loadDelta(watermark!)).finally(() => (refreshing = undefined));
    return refreshing;
  }

  /** The scenes in every one of these id lists (at most MAX_TITLE_HITS), smallest list first. */
  function scenesInEvery(lists: (readonly string[])[]): IndexedScene[] {
    const [smallest, ...rest] = [...lists].sort((a, b) => a.length - b.length);
    if (!smallest) return [];
    const others = rest.map((list) => new Set(list));
    const out: IndexedScene[] = [];
    for (const id of smallest) {
      if (others.every((set) => set.has(id))) out.push(scenes.get(id)!);
      if (out.length >= MAX_TITLE_HITS) break;
    }
    return out;
  }

  return {
    get ready() {
      return ready;
    },
    get size() {
      return scenes.size;
    },
    /** A full build the first time and every hour, deltas in between. Concurrent calls share a run. */
    refresh,
    /**
     * Whether the index holds every scene Stash has now, so a miss is a real miss: built, and
     * refreshed within FRESH_MS (loading the delta first when older). False while a full
     * rebuild is due (it runs in the background) or Stash cannot be asked: use live lookups.
     */
    async complete(): Promise<boolean> {
      if (!ready) return false;
      if (now() - refreshedAt <= FRESH_MS) return true;
      if (rebuildDue()) {
        void refresh().catch(() => {});
        return false;
      }
      return refresh().then(() => true, () => false);
    },
    sceneIdByPath: (path: string) => byPath.get(path.normalize("NFC")),
    /** Every indexed file path (for inferring path rules). */
    paths: () => [...byPath.keys()],
    sceneIdsByBasename: (name: string) => [...byBasename.get(name.normalize("NFC"))],
    /** Scenes with a file in a folder of this name with this name (`set 12/intro.mp4`). */
    sceneIdsByFolderAndName: (key: string) => [...byFolderAndName.get(key)],
    scene: (id: string) => scenes.get(id),
    /** Scenes whose title holds every one of the (normalised) words. */
    scenesWithTitleWords: (words: string[]) => scenesInEvery(words.map((w) => byWord.get(w))),
    /**
     * Scenes whose title holds, for every word, that word or one a typo or two away from it
     * (Fix Match with a misspelt word). Scans the title words once per query: for a person's
     * search, not for a scan.
     */
    scenesWithTitleWordsLike(words: string[]): IndexedScene[] {
      const known = [...byWord.keys()];
      return scenesInEvery(words.map((w) => {
        const variants = known.filter((k) => k === w || withinEdits(w, k, typoAllowance(w)));
        return [...new Set(variants.flatMap((v) => byWord.get(v)))];
      }));
    },
    put,
    remove,
  };
}
export type FileIndex = ReturnType<typeof createFileIndex>;
