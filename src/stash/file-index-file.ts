/**
 * The SQLite file behind the index of Stash's files (file-index.ts), kept across restarts: a
 * start opens the generation the last run left (its delta bookmark with it) instead of paging
 * all of Stash again, so a restart's first match is answered from it at once (issue 26).
 *
 * It stays a cache: whatever cannot be trusted is dropped and the index built again, never a
 * crash: a file that is not a database or is damaged, one of another format (an older release's,
 * which emptied it at every start). A file another process holds (the service, while a one-shot
 * command runs beside it) is left alone: the command builds its own index in memory. The file's
 * own table `index_meta` says which generation is live, the bookmark (Stash's `updated_at` of
 * the last delta) and when the last full build ended.
 */
import { Database } from "bun:sqlite";
import { rmSync } from "node:fs";

/** Bump when the tables of a generation (file-index.ts) change: an older file is then rebuilt. */
export const INDEX_FORMAT = "3"; // 3: each file's size, duration and oshash

export type GenerationName = "a" | "b";

/** What the last run left: the live generation, its bookmark, and when its full build ended (epoch ms). */
export interface SavedIndex {
  live: GenerationName;
  watermark?: string;
  builtAt: number;
}

const TABLES = ["scenes", "files", "words"] as const;

function connect(file: string): Database {
  const db = new Database(file, { create: true, strict: true });
  // WAL: a crash or a kill mid-write leaves the last committed state, never a torn file;
  // NORMAL syncs at checkpoints only (losing the last deltas at a power cut costs a catch-up).
  db.run("PRAGMA journal_mode = WAL");
  db.run("PRAGMA synchronous = NORMAL");
  // The file is this connection's alone: holding its lock keeps the page cache valid between
  // statements (shared locking re-checks the file at each one: 8 µs a lookup instead of 1), and
  // with it WAL keeps its index in memory (no -shm file).
  db.run("PRAGMA locking_mode = EXCLUSIVE");
  db.run("CREATE TABLE IF NOT EXISTS index_meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)");
  return db;
}

const hasTable = (db: Database, name: string) =>
  db.query("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?").get(name) !== null;

/** The saved state when the file can be trusted, else undefined (the caller starts it afresh). */
function readSaved(db: Database): SavedIndex | undefined {
  const meta = new Map(
    db
      .query<{ key: string; value: string }, []>("SELECT key, value FROM index_meta")
      .all()
      .map((r) => [r.key, r.value]),
  );
  const live = meta.get("live");
  if (meta.get("format") !== INDEX_FORMAT || (live !== "a" && live !== "b")) return undefined;
  if (!TABLES.every((t) => hasTable(db, `${live}_${t}`))) return undefined;
  // Not closed by the last run (killed, or the machine went down): read every page once.
  if (meta.get("clean") !== "1" && db.query("PRAGMA quick_check").values()[0]?.[0] !== "ok") return undefined;
  const builtAt = Number(meta.get("builtAt"));
  return { live, watermark: meta.get("watermark"), builtAt: Number.isFinite(builtAt) ? builtAt : 0 };
}

function removeFile(file: string) {
  for (const suffix of ["", "-journal", "-wal", "-shm"]) rmSync(file + suffix, { force: true });
}

/** SQLite's answer when another connection holds the file's lock (the running service's). */
const isHeld = (err: unknown) => /SQLITE_BUSY|SQLITE_LOCKED/.test(String((err as { code?: unknown }).code ?? ""));

export function openIndexFile(file: string) {
  let db: Database | undefined;
  let saved: SavedIndex | undefined;
  let held = false;
  try {
    db = connect(file);
    saved = readSaved(db);
  } catch (err) {
    // Not a database or damaged: a new file. Held by another process (a one-shot command beside
    // the running service): that file is the service's, so this process builds its own in memory.
    held = isHeld(err);
    saved = undefined;
  }
  if (held) {
    db?.close();
    db = connect(":memory:");
  } else if (!saved && file !== ":memory:") {
    db?.close();
    removeFile(file);
    db = connect(file);
  }
  // db.query: cached by the connection, so closing it finalizes it.
  const setMeta = db!.query<unknown, [string, string]>(
    "INSERT INTO index_meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  const setAll = db!.transaction((entries: [string, string][]) => {
    for (const [k, v] of entries) setMeta.run(k, v);
  });
  // Open (written to) until closed cleanly.
  setAll([
    ["format", INDEX_FORMAT],
    ["clean", "0"],
  ]);
  let closed = false;
  return {
    db: db!,
    saved,
    /** The live generation and its bookmark, after a build or a delta. */
    save(state: SavedIndex) {
      const entries: [string, string][] = [
        ["live", state.live],
        ["builtAt", String(state.builtAt)],
      ];
      if (state.watermark !== undefined) entries.push(["watermark", state.watermark]);
      setAll(entries);
    },
    /** Marks the file closed cleanly (the next start skips its check), then closes it; once. */
    close() {
      if (closed) return;
      closed = true;
      setMeta.run("clean", "1");
      db!.close();
    },
  };
}
export type IndexFile = ReturnType<typeof openIndexFile>;
