/**
 * An index of every Stash scene file (path → scene, basename → scenes, title word → scenes),
 * built by paging through Stash once and then kept fresh with `updated_at` deltas. It lets a
 * match by path, name or title answer without a Stash round trip; a path miss still falls
 * back to a live lookup, so a scene added since the last refresh is found too.
 *
 * It lives in SQLite, not in the heap: in a file in the data folder (the service passes one)
 * its pages are the operating system's file cache, not the service's memory. As JS maps it
 * cost ~1 KB of heap per scene, plus the pages of a rebuild held until the swap (issue 19).
 * The file is kept across restarts (file-index-file.ts): a start answers from what the last run
 * built and catches up with one delta from its bookmark; the hourly full build goes on from the
 * time the last one ended. A file that cannot be trusted is dropped and built again.
 * Building yields to the event loop (pace.ts): matches and /healthz are answered meanwhile.
 */
import type { Database, SQLQueryBindings, Statement } from "bun:sqlite";
import { join } from "node:path";
import type { StashSceneFiles } from "../schema/stash.ts";
import { gateBits, sceneTitle } from "../domain/scene.ts";
import { typoAllowance, withinEdits, wordsOf } from "../text.ts";
import type { StashClient } from "./client.ts";
import { secondOf, textMax } from "./stamps.ts";
import { pages as readPages } from "../paging.ts";
import { paced } from "../pace.ts";
import { type GenerationName, openIndexFile } from "./file-index-file.ts";

export interface IndexedScene {
  id: string;
  title?: string | null;
  date?: string | null;
  studio?: string;
  paths: string[];
  /** Each path's size (bytes), duration (s) and oshash, where Stash knows them (same order as paths). */
  facts?: FileFacts[];
  /** Organized / StashDB id / URL, as bits (see provider/gates.ts). */
  gates?: number;
}

/** What identifies a file whatever its name (identity.ts): its size, duration and oshash. */
export interface FileFacts {
  size: number | null;
  duration: number | null;
  oshash: string | null;
}

/** A Stash file found by its size or fingerprint, with what else is known of it. */
export interface FileByFacts extends FileFacts {
  scene_id: string;
  path: string;
}

/** The title Plex would show for an indexed scene (same fallback to the file name as the metadata). */
export const indexedTitle = (s: IndexedScene) =>
  sceneTitle({ id: s.id, title: s.title, files: s.paths.map((path) => ({ path })) });

/** Most candidates a title search returns: enough to score, few enough to stay fast. */
const MAX_TITLE_HITS = 500;

const basenameOf = (path: string) => path.split(/[\\/]/).at(-1) ?? path;
/** A file's folder and name, `/`-separated: the key of the tail rung (a tail is never shorter). */
export const lastTwoSegments = (path: string) =>
  path.normalize("NFC").split(/[\\/]/).filter(Boolean).slice(-2).join("/");
const PAGE = 1000;
/** Scenes written in one transaction: a slice short enough between two yields to the event loop. */
const SLICE = 100;

/** Deltas cannot see deleted scenes or moved files; a full rebuild this often catches them. */
const FULL_REBUILD_MS = 60 * 60 * 1000;
/**
 * How old the index may be for a miss to be answered from it. Older, a miss first loads the
 * delta (one small query, shared by concurrent lookups): a scan of many files Stash lacks costs
 * one Stash query per this interval instead of two per file.
 */
const FRESH_MS = 2000;

interface SceneRow {
  id: string;
  title: string | null;
  date: string | null;
  studio: string | null;
  gates: number;
  paths: string;
}

function createTables(db: Database, name: GenerationName) {
  for (const table of ["scenes", "files", "words"]) db.run(`DROP TABLE IF EXISTS ${name}_${table}`);
  db.run(
    `CREATE TABLE ${name}_scenes (id TEXT PRIMARY KEY, title TEXT, date TEXT, studio TEXT, gates INTEGER NOT NULL, paths TEXT NOT NULL)`,
  );
  // A file may belong to several scenes (Stash allows it): one row per scene and path.
  db.run(
    `CREATE TABLE ${name}_files (path TEXT NOT NULL, scene_id TEXT NOT NULL, basename TEXT NOT NULL, tail TEXT NOT NULL, size INTEGER, duration REAL, oshash TEXT)`,
  );
  // Covering indexes: a lookup is one B-tree search, never a second one into the table.
  db.run(`CREATE INDEX ${name}_files_path ON ${name}_files (path, scene_id)`);
  db.run(`CREATE INDEX ${name}_files_basename ON ${name}_files (basename, scene_id)`);
  db.run(`CREATE INDEX ${name}_files_tail ON ${name}_files (tail, scene_id)`);
  db.run(`CREATE INDEX ${name}_files_scene ON ${name}_files (scene_id)`);
  // A Plex file whose name tells nothing: found by its exact size, or its oshash.
  db.run(`CREATE INDEX ${name}_files_size ON ${name}_files (size)`);
  db.run(`CREATE INDEX ${name}_files_oshash ON ${name}_files (oshash)`);
  db.run(`CREATE TABLE ${name}_words (word TEXT NOT NULL, scene_id TEXT NOT NULL)`);
  db.run(`CREATE UNIQUE INDEX ${name}_words_key ON ${name}_words (word, scene_id)`);
}

/**
 * One generation of the index: three tables under a prefix. A rebuild fills the idle
 * generation page by page, then becomes the live one in one synchronous step (lookups never
 * see a half-built index) and the old one is dropped. Rows keep their insertion order
 * (rowid), which is the order lookups answer in, as the maps did. `existing`: the live one
 * the last run left in the file, opened as it is; otherwise made empty.
 */
function generation(db: Database, name: GenerationName, existing = false) {
  if (!existing) createTables(db, name);
  const made: Statement[] = [];
  const prep = <R, P extends SQLQueryBindings[]>(sql: string): Statement<R, P> => {
    const st = db.prepare<R, P>(sql) as Statement<R, P>;
    made.push(st as unknown as Statement);
    return st;
  };
  const ids = (sql: string) => prep<{ scene_id: string }, [string]>(sql);
  const q = {
    scene: prep<SceneRow, [string]>(`SELECT * FROM ${name}_scenes WHERE id = ?`),
    insertScene: prep(`INSERT INTO ${name}_scenes (id, title, date, studio, gates, paths) VALUES (?, ?, ?, ?, ?, ?)`),
    deleteScene: prep(`DELETE FROM ${name}_scenes WHERE id = ?`),
    insertFile: prep(
      `INSERT INTO ${name}_files (path, scene_id, basename, tail, size, duration, oshash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
    ),
    bySize: prep<FileByFacts, [number]>(
      `SELECT scene_id, path, size, duration, oshash FROM ${name}_files WHERE size = ? ORDER BY rowid`,
    ),
    byOshash: prep<FileByFacts, [string]>(
      `SELECT scene_id, path, size, duration, oshash FROM ${name}_files WHERE oshash = ? ORDER BY rowid`,
    ),
    deleteFiles: prep(`DELETE FROM ${name}_files WHERE scene_id = ?`),
    insertWord: prep(`INSERT OR IGNORE INTO ${name}_words (word, scene_id) VALUES (?, ?)`),
    deleteWord: prep(`DELETE FROM ${name}_words WHERE word = ? AND scene_id = ?`),
    // The newest claim on a path wins, as a map's last set did.
    byPath: ids(`SELECT scene_id FROM ${name}_files WHERE path = ? ORDER BY rowid DESC LIMIT 1`),
    byBasename: ids(`SELECT scene_id FROM ${name}_files WHERE basename = ? ORDER BY rowid`),
    byTail: ids(`SELECT scene_id FROM ${name}_files WHERE tail = ? ORDER BY rowid`),
    byWord: ids(`SELECT scene_id FROM ${name}_words WHERE word = ? ORDER BY rowid`),
    wordCount: prep<{ n: number }, [string]>(`SELECT count(*) AS n FROM ${name}_words WHERE word = ?`),
    hasWord: prep<{ one: number }, [string, string]>(
      `SELECT 1 AS one FROM ${name}_words WHERE word = ? AND scene_id = ?`,
    ),
    words: prep<{ word: string }, []>(`SELECT DISTINCT word FROM ${name}_words`),
    paths: prep<{ path: string }, []>(`SELECT DISTINCT path FROM ${name}_files`),
  };
  let size = existing ? db.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${name}_scenes`).get()!.n : 0;

  function scene(id: string): IndexedScene | undefined {
    const row = q.scene.get(id);
    if (!row) return undefined;
    const out: IndexedScene = {
      id: row.id,
      title: row.title,
      date: row.date,
      paths: JSON.parse(row.paths),
      gates: row.gates,
    };
    if (row.studio !== null) out.studio = row.studio;
    return out;
  }
  const titleWords = (s: IndexedScene) => new Set(wordsOf(indexedTitle(s)));

  function remove(id: string) {
    const old = scene(id);
    if (!old) return;
    q.deleteFiles.run(id);
    for (const word of titleWords(old)) q.deleteWord.run(word, id);
    q.deleteScene.run(id);
    size--;
  }
  function put(s: IndexedScene) {
    remove(s.id);
    q.insertScene.run(s.id, s.title ?? null, s.date ?? null, s.studio ?? null, s.gates ?? 0, JSON.stringify(s.paths));
    s.paths.forEach((path, i) => {
      const f = s.facts?.[i];
      q.insertFile.run(
        path,
        s.id,
        basenameOf(path),
        lastTwoSegments(path),
        f?.size ?? null,
        f?.duration ?? null,
        f?.oshash ?? null,
      );
    });
    for (const word of titleWords(s)) q.insertWord.run(word, s.id);
    size++;
  }
  return {
    name,
    get size() {
      return size;
    },
    scene,
    put: db.transaction((scenes: IndexedScene[]) => scenes.forEach(put)),
    remove: db.transaction(remove),
    idByPath: (path: string) => q.byPath.get(path)?.scene_id,
    idsByBasename: (name: string) => q.byBasename.all(name).map((r) => r.scene_id),
    idsByTail: (key: string) => q.byTail.all(key).map((r) => r.scene_id),
    filesBySize: (size: number): FileByFacts[] => q.bySize.all(size),
    filesByOshash: (oshash: string): FileByFacts[] => q.byOshash.all(oshash),
    /** The scenes whose title has every word (at most MAX_TITLE_HITS): walks the rarest word's list, checks the others. */
    withEveryWord(words: string[]): IndexedScene[] {
      const byCount = [...new Set(words)].map((w) => ({ w, n: q.wordCount.get(w)!.n })).sort((a, b) => a.n - b.n);
      const [rarest, ...rest] = byCount;
      if (!rarest || rarest.n === 0) return [];
      const out: IndexedScene[] = [];
      for (const { scene_id } of q.byWord.iterate(rarest.w)) {
        if (rest.every(({ w }) => q.hasWord.get(w, scene_id))) out.push(scene(scene_id)!);
        if (out.length >= MAX_TITLE_HITS) break;
      }
      return out;
    },
    idsByWord: (word: string) => q.byWord.all(word).map((r) => r.scene_id),
    words: () => q.words.all().map((r) => r.word),
    paths: () => q.paths.all().map((r) => r.path),
    /** Finalizes its statements: a connection closes only once none is left. */
    release() {
      for (const st of made.splice(0)) st.finalize();
    },
    drop() {
      this.release();
      for (const table of ["scenes", "files", "words"]) db.run(`DROP TABLE IF EXISTS ${name}_${table}`);
    },
  };
}

/**
 * Where a Stash instance's index lives in the data folder: one file per instance (the
 * default instance's has no suffix), so each instance's index is built and dropped alone.
 */
export const fileIndexFile = (dataDir: string, instance?: string) =>
  join(dataDir, instance ? `stash-files.${instance.replace(/[^A-Za-z0-9_-]/g, "_")}.sqlite` : "stash-files.sqlite");

export interface FileIndexOptions {
  /** The SQLite file to keep the index in (in the data folder); default in memory (tests). */
  file?: string;
}

export function createFileIndex(
  stash: Pick<StashClient, "sceneFilesPage" | "scenesStampedBetween">,
  now: () => number = Date.now,
  options: FileIndexOptions = {},
) {
  const file = openIndexFile(options.file ?? ":memory:");
  const { db, saved } = file;
  // What the last run left (when the file can be trusted): answered from at once, caught up by a delta.
  let live = generation(db, saved?.live ?? "a", saved !== undefined);
  let watermark = saved?.watermark;
  let ready = saved !== undefined;
  /** When the last full build ended (a clock that moved back starts the hour again). */
  let builtAt = saved ? Math.min(saved.builtAt, now()) : 0;
  /** Whether a delta has run since the start: until then, the first refresh is one (not a rebuild). */
  let caughtUp = false;
  let refreshedAt = Number.NEGATIVE_INFINITY;
  let refreshing: Promise<number> | undefined;
  const save = () => file.save({ live: live.name, watermark, builtAt });

  const indexed = (scene: StashSceneFiles): IndexedScene => ({
    id: scene.id,
    title: scene.title,
    date: scene.date,
    studio: scene.studio?.name,
    gates: gateBits(scene),
    paths: scene.files.map((f) => f.path.normalize("NFC")),
    facts: scene.files.map((f) => ({
      size: f.size == null || !Number.isFinite(Number(f.size)) ? null : Number(f.size),
      duration: f.duration ?? null,
      oshash: f.oshash ?? null,
    })),
  });
  /** Stash compares its stamps as text (see stamps.ts): keep the greatest in that order. */
  const stamped = (scenes: StashSceneFiles[]) => {
    for (const s of scenes) watermark = watermark === undefined ? s.updated_at : textMax(watermark, s.updated_at);
  };
  function put(scene: StashSceneFiles) {
    live.put([indexed(scene)]);
    stamped([scene]);
  }

  /**
   * Scenes stamped in or after the watermark's second, in one answer (pages would shift under
   * edits made while we page). A change hidden by a DST switch waits for the hourly rebuild;
   * a match meanwhile falls back to a live lookup.
   */
  async function loadDelta(since: string): Promise<number> {
    const items = await stash.scenesStampedBetween(secondOf(since));
    await paced(items.map(indexed), SLICE, live.put);
    stamped(items);
    save();
    refreshedAt = now();
    caughtUp = true;
    return items.length;
  }

  /** Pages through every scene into the idle generation (one page at a time, none kept), then swaps it in. */
  async function rebuild(): Promise<number> {
    const next = generation(db, live.name === "a" ? "b" : "a");
    let mark: string | undefined;
    try {
      for await (const { items } of readPages(PAGE, (i) => stash.sceneFilesPage(i + 1, PAGE))) {
        await paced(items.map(indexed), SLICE, next.put);
        for (const s of items) mark = mark === undefined ? s.updated_at : textMax(mark, s.updated_at);
      }
    } catch (err) {
      next.drop();
      throw err;
    }
    const old = live;
    live = next;
    watermark = mark === undefined ? watermark : watermark === undefined ? mark : textMax(watermark, mark);
    ready = caughtUp = true;
    builtAt = refreshedAt = now();
    save(); // the swap on disk too, before the old generation goes
    old.drop();
    return live.size;
  }

  const rebuildDue = () => !ready || !watermark || now() - builtAt > FULL_REBUILD_MS;
  /** After a restart the delta comes first, even when the hourly build is due: it is quick, the build is not. */
  const deltaFirst = () => ready && watermark !== undefined && !caughtUp;
  function refresh(): Promise<number> {
    refreshing ??= (rebuildDue() && !deltaFirst() ? rebuild() : loadDelta(watermark!)).finally(
      () => (refreshing = undefined),
    );
    return refreshing;
  }

  return {
    get ready() {
      return ready;
    },
    get size() {
      return live.size;
    },
    /**
     * A full build the first time and every hour, deltas in between (after a restart, a delta
     * first). Concurrent calls share a run.
     */
    refresh,
    /**
     * Whether the index holds every scene Stash has now, so a miss is a real miss: built, and
     * refreshed within FRESH_MS (loading the delta first when older). False while a full
     * rebuild is due or a restart's first delta has not run (both run in the background) or
     * Stash cannot be asked: use live lookups.
     */
    async complete(): Promise<boolean> {
      if (!ready) return false;
      if (now() - refreshedAt <= FRESH_MS) return true;
      // After a restart, until the delta has caught up: hits answer from the index, misses ask
      // Stash live, and nobody waits for the delta (Stash may be slow or down).
      if (deltaFirst() || rebuildDue()) {
        void refresh().catch(() => {});
        return false;
      }
      return refresh().then(
        () => true,
        () => false,
      );
    },
    sceneIdByPath: (path: string) => live.idByPath(path.normalize("NFC")),
    /** Every indexed file path (for inferring path rules). */
    paths: () => live.paths(),
    sceneIdsByBasename: (name: string) => live.idsByBasename(name.normalize("NFC")),
    /** Scenes with a file in a folder of this name with this name (`set 12/intro.mp4`). */
    sceneIdsByFolderAndName: (key: string) => live.idsByTail(key),
    /** Stash's files of exactly this size (bytes), with their duration and oshash (identity.ts). */
    filesBySize: (size: number) => live.filesBySize(size),
    /** Stash's files with this oshash. */
    filesByOshash: (oshash: string) => live.filesByOshash(oshash.toLowerCase()),
    scene: (id: string) => live.scene(id),
    /** Scenes whose title holds every one of the (normalised) words. */
    scenesWithTitleWords: (words: string[]) => live.withEveryWord(words),
    /**
     * Scenes whose title holds, for every word, that word or one a typo or two away from it
     * (Fix Match with a misspelt word). Scans the title words once per query: for a person's
     * search, not for a scan.
     */
    scenesWithTitleWordsLike(words: string[]): IndexedScene[] {
      const known = live.words();
      const lists = words.map((w) => {
        const variants = known.filter((k) => k === w || withinEdits(w, k, typoAllowance(w)));
        return [...new Set(variants.flatMap((v) => live.idsByWord(v)))];
      });
      const [smallest, ...rest] = lists.sort((a, b) => a.length - b.length);
      if (!smallest) return [];
      const others = rest.map((list) => new Set(list));
      const out: IndexedScene[] = [];
      for (const id of smallest) {
        if (others.every((set) => set.has(id))) out.push(live.scene(id)!);
        if (out.length >= MAX_TITLE_HITS) break;
      }
      return out;
    },
    put,
    remove: (id: string) => live.remove(id),
    /** Closes the index's database (at stop). */
    close() {
      live.release();
      file.close();
    },
  };
}
export type FileIndex = ReturnType<typeof createFileIndex>;
