/**
 * The one SQLite database (WAL, in the data folder) and its migrations. Everything that
 * must survive a restart lives here: the push queue, dead letters, the Plex index, the
 * poller's watermark, the circuit breaker and the outage history.
 */
import { Database } from "bun:sqlite";
import { accessSync, constants, mkdirSync } from "node:fs";
import { join } from "node:path";
import { databaseTrouble } from "./trouble.ts";
import { backupsDir, makeBackup } from "./backup.ts";
import { createDatabaseHealth, reportErrors } from "./health.ts";
import { type Logger, silentLogger } from "../log.ts";

/** Backups taken before a schema migration that are kept (the newest). */
const PRE_MIGRATION_KEPT = 5;

/** Start-up could not open the database: one line saying which file, what is wrong and the fix. */
export class DatabaseStartError extends Error {}

const MIGRATIONS: string[] = [
  /* 1 */ `
  CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE jobs (
    scene_id TEXT PRIMARY KEY,
    state TEXT NOT NULL CHECK (state IN ('pending', 'running', 'confirming')),
    reason TEXT NOT NULL,
    stash_updated_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    attempts INTEGER NOT NULL DEFAULT 0,
    first_queued_at INTEGER NOT NULL,
    queued_at INTEGER NOT NULL,
    next_attempt_at INTEGER NOT NULL,
    claimed_at INTEGER,
    pushed_version INTEGER,
    pulled_at INTEGER,
    pushed_rating_keys TEXT,
    last_error TEXT
  );
  CREATE INDEX jobs_due ON jobs (state, next_attempt_at);
  CREATE TABLE job_history (
    id INTEGER PRIMARY KEY, scene_id TEXT NOT NULL, at INTEGER NOT NULL, event TEXT NOT NULL, detail TEXT
  );
  CREATE INDEX job_history_scene ON job_history (scene_id, at);
  CREATE TABLE dead_letters (
    scene_id TEXT PRIMARY KEY, reason TEXT NOT NULL, attempts INTEGER NOT NULL,
    first_queued_at INTEGER NOT NULL, died_at INTEGER NOT NULL, last_error TEXT NOT NULL
  );
  CREATE TABLE delivered (scene_id TEXT PRIMARY KEY, stash_updated_at TEXT, at INTEGER NOT NULL, rating_key TEXT);
  CREATE TABLE plex_items (
    rating_key TEXT PRIMARY KEY, section_id TEXT NOT NULL, guid TEXT NOT NULL, title TEXT NOT NULL, updated_at INTEGER NOT NULL
  );
  CREATE INDEX plex_items_guid ON plex_items (guid);
  CREATE TABLE plex_files (path TEXT NOT NULL, basename TEXT NOT NULL, rating_key TEXT NOT NULL, PRIMARY KEY (path, rating_key));
  CREATE INDEX plex_files_basename ON plex_files (basename);
  CREATE INDEX plex_files_item ON plex_files (rating_key);
  CREATE TABLE edit_state (rating_key TEXT NOT NULL, field TEXT NOT NULL, value TEXT NOT NULL, PRIMARY KEY (rating_key, field));
  CREATE TABLE outages (
    id INTEGER PRIMARY KEY, started_at INTEGER NOT NULL, ended_at INTEGER, jobs_waiting INTEGER NOT NULL, last_error TEXT
  );`,
  /* 2: per-item delivery; dead letters remember the Stash version they gave up on */ `
  ALTER TABLE dead_letters ADD COLUMN stash_updated_at TEXT;
  ALTER TABLE jobs ADD COLUMN items_left INTEGER NOT NULL DEFAULT 0;
  CREATE TABLE job_items (
    scene_id TEXT NOT NULL, rating_key TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('awaiting', 'done')), at INTEGER NOT NULL,
    PRIMARY KEY (scene_id, rating_key)
  );`,
  /* 3: reconcile runs; a report is written whole at the end of a run, or not at all */ `
  CREATE TABLE reconcile_runs (
    id INTEGER PRIMARY KEY, started_at INTEGER NOT NULL, finished_at INTEGER NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('done', 'failed')), trigger TEXT NOT NULL, error TEXT,
    scenes INTEGER NOT NULL, items INTEGER NOT NULL, counts TEXT NOT NULL, healed TEXT NOT NULL
  );
  CREATE TABLE reconcile_gaps (
    run_id INTEGER NOT NULL REFERENCES reconcile_runs (id) ON DELETE CASCADE, kind TEXT NOT NULL, seq INTEGER NOT NULL,
    gap TEXT NOT NULL, PRIMARY KEY (run_id, kind, seq)
  );`,
  /* 4: dashboard sessions (src/store/sessions.ts owns the table); only a hash of each id is kept */ `
  CREATE TABLE sessions (
    id_hash TEXT PRIMARY KEY, created_at INTEGER NOT NULL, last_seen_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL, address TEXT NOT NULL, user_agent TEXT NOT NULL
  );`,
  /* 5: what a reconcile run found besides gaps: fields kept in Plex (locked), sections skipped (JSON) */ `
  ALTER TABLE reconcile_runs ADD COLUMN notes TEXT NOT NULL DEFAULT '{}';`,
  /*
   * 6: every row names what it is about by a reference (domain/ref.ts), not a bare scene id:
   * several Stash instances have overlapping ids. The shape is one `ref` TEXT column holding
   * refKey ("default:scene:42"), not instance/kind/id columns: it stays the one primary key the
   * queue coalesces on (ON CONFLICT (ref)), it is the queue key ref.ts derives in one place,
   * one instance's rows are a prefix range of that key's index, and a new kind needs no new
   * schema. Rows of the previous release were all the default instance's scenes. Bookmarks
   * in meta (the poller's, the breaker's) get the instance in their key; outages name it.
   */ `
  ALTER TABLE jobs RENAME COLUMN scene_id TO ref;
  UPDATE jobs SET ref = 'default:scene:' || ref;
  ALTER TABLE job_history RENAME COLUMN scene_id TO ref;
  UPDATE job_history SET ref = 'default:scene:' || ref;
  ALTER TABLE dead_letters RENAME COLUMN scene_id TO ref;
  UPDATE dead_letters SET ref = 'default:scene:' || ref;
  ALTER TABLE delivered RENAME COLUMN scene_id TO ref;
  UPDATE delivered SET ref = 'default:scene:' || ref;
  ALTER TABLE job_items RENAME COLUMN scene_id TO ref;
  UPDATE job_items SET ref = 'default:scene:' || ref;
  ALTER TABLE outages ADD COLUMN instance TEXT NOT NULL DEFAULT 'default';
  UPDATE meta SET key = key || ':default' WHERE key IN
    ('pollWatermark', 'pollScenesAtWatermark', 'pollCursor', 'pollSweptAt', 'pollNextSweepAt', 'pollScheme', 'breaker');
  UPDATE reconcile_gaps SET gap = json_set(gap, '$.instance', 'default') WHERE json_extract(gap, '$.sceneId') IS NOT NULL;`,
  /*
   * 7: TV-style libraries (src/tv/placements.ts owns the table): where each scene sits in the
   * shows of each scheme of an instance. The episode numbers given are kept here, so they stay
   * the same across restarts (a renumbered episode loses its watched state in Plex); `want` is
   * what the scene asked for when its number was given (numbering.ts).
   */ `
  CREATE TABLE tv_placements (
    instance TEXT NOT NULL, scheme TEXT NOT NULL CHECK (scheme IN ('st', 'sn', 'gr')), scene_id TEXT NOT NULL,
    show_id TEXT NOT NULL, show_title TEXT NOT NULL, season INTEGER NOT NULL, episode INTEGER NOT NULL,
    want TEXT NOT NULL, title TEXT NOT NULL, path TEXT NOT NULL, link TEXT NOT NULL,
    PRIMARY KEY (instance, scheme, scene_id),
    UNIQUE (instance, show_id, season, episode)
  );`,
  /*
   * 8: Plex → Stash write-back (src/writeback/events.ts owns the table): one row per event key
   * (a replay stores nothing new); `event` is the PlexEvent as JSON, the other columns what the
   * queue selects and coalesces on; `played_sent_at`: when its time played was handed to Stash,
   * set before the call (Stash adds time played up: sent at most once, never twice).
   */ `
  CREATE TABLE writeback_events (
    key TEXT PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('play', 'progress', 'rate')),
    ref TEXT NOT NULL, rating_key TEXT NOT NULL, account_id TEXT NOT NULL, at INTEGER NOT NULL,
    event TEXT NOT NULL, sources TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'done', 'failed', 'ignored')),
    attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, claimed_at INTEGER,
    last_error TEXT, outcome TEXT, received_at INTEGER NOT NULL, done_at INTEGER, played_sent_at INTEGER
  );
  CREATE INDEX writeback_events_due ON writeback_events (state, next_attempt_at);
  CREATE INDEX writeback_events_ref ON writeback_events (ref, at);
  CREATE INDEX writeback_events_play ON writeback_events (ref, rating_key, account_id, kind, at);
  CREATE INDEX writeback_events_received ON writeback_events (received_at);`,
  /*
   * 9: artwork put into Plex (src/sync/artwork-state.ts owns the table): Plex cannot fetch a
   * provider's images from a LAN address, so posters and backgrounds are uploaded. One row per
   * item and element: which Stash image (`source`: kind/id@version) and which bytes (`hash`) it
   * holds, and the URL Plex showed for it after the upload (`shown`: a lock on that image is ours).
   */ `
  CREATE TABLE artwork (
    rating_key TEXT NOT NULL, element TEXT NOT NULL CHECK (element IN ('posters', 'arts')),
    source TEXT NOT NULL, hash TEXT NOT NULL, shown TEXT, at INTEGER NOT NULL,
    PRIMARY KEY (rating_key, element)
  );`,
  /* 10: the Plex items changed last, found without a scan (a Plex restored from a backup: gaps/plex-rewind.ts) */ `
  CREATE INDEX plex_items_updated ON plex_items (updated_at);`,
  /*
   * 11: a Plex file's size and duration (a copy whose name tells nothing is found by them:
   * sync/identity.ts); the index is read whole again to learn them. The items bound that way,
   * or left with several candidates (src/sync/identity-state.ts owns the table).
   */ `
  ALTER TABLE plex_files ADD COLUMN size INTEGER;
  ALTER TABLE plex_files ADD COLUMN duration_ms INTEGER;
  CREATE INDEX plex_files_size ON plex_files (size);
  DELETE FROM meta WHERE key LIKE 'plexIndexAt:%';
  CREATE TABLE identity (
    rating_key TEXT PRIMARY KEY, path TEXT NOT NULL, how TEXT NOT NULL CHECK (how IN ('size+duration', 'oshash', 'ambiguous')),
    ref TEXT, candidates TEXT NOT NULL DEFAULT '[]', at INTEGER NOT NULL
  );`,
  /*
   * 12: the Plex collections we keep, per library and Stash thing (collections/state.ts owns the
   * table): a renamed studio's collection is found by its key, and keeps its rating key.
   */ `
  CREATE TABLE collections (
    section_id TEXT NOT NULL, key TEXT NOT NULL, instance TEXT NOT NULL, rating_key TEXT NOT NULL,
    title TEXT NOT NULL, members INTEGER NOT NULL DEFAULT 0, at INTEGER NOT NULL,
    PRIMARY KEY (section_id, key)
  );
  CREATE INDEX collections_rating_key ON collections (rating_key);`,
  /*
   * 13: a Plex file found by the token its name ends with ({s2p-st-42}.mp4: the episode folder's
   * links, tv/names.ts), whatever the title before it: an episode PMS keeps unmatched at a path
   * its scene's link left has no GUID of ours to be found by (sync/tv-push.ts scanLeftBehind).
   */ `
  CREATE INDEX plex_files_token ON plex_files (substr(basename, instr(basename, '{s2p-')));`,
  /*
   * 14: the items bound to one provider's scenes, a page at a time in (guid, rating_key) order
   * (sync/plex-index.ts withGuidPrefix): with the GUID alone indexed, each page sorted every item
   * of the prefix again (quadratic: ~50 s of a 200,000-scene start). It serves lookups by GUID too.
   */ `
  CREATE INDEX plex_items_guid_key ON plex_items (guid, rating_key);
  DROP INDEX plex_items_guid;`,
];

/** The schema version a database has once every migration ran. */
export const SCHEMA_VERSION = MIGRATIONS.length;

export type Store = ReturnType<typeof openStore>;

/** The one-line fix for a data folder this process may not write (Docker made it as root, say). */
export function notWritable(dataDir: string): string {
  const who = `${process.getuid?.() ?? "?"}:${process.getgid?.() ?? "?"}`;
  return (
    `the data folder ${dataDir} (DATA_DIR) is not writable by the user the service runs as (uid:gid ${who}): ` +
    `on the host, run  chown -R ${who} <the folder mounted at ${dataDir}>  or run the container as the folder's owner (--user, PUID/PGID)`
  );
}

/** Checks the data folder exists (creating it) and is writable; throws a DatabaseStartError naming the fix. */
export function checkDataDir(dataDir: string): void {
  if (dataDir === ":memory:") return;
  try {
    mkdirSync(dataDir, { recursive: true });
    accessSync(dataDir, constants.W_OK | constants.X_OK);
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "EACCES" || code === "EPERM" || code === "EROFS") throw new DatabaseStartError(notWritable(dataDir));
    const why =
      code === "ENOTDIR" || code === "EEXIST" ? "is not a folder" : `cannot be created or used (${code ?? "error"})`;
    throw new DatabaseStartError(
      `the data folder ${dataDir} (DATA_DIR) ${why}: point DATA_DIR at a folder the service can write`,
    );
  }
}

/**
 * Damaged pages behind an intact header show only when something reads them: the service
 * would start and then fail job by job, or end in an uncaught error. One pass over every
 * page at open (quick_check: the b-trees, not the slower index cross-checks) finds them —
 * after a run that did not close the database (a kill -9, a power cut: when pages get torn).
 * After a clean stop the pass is skipped: at 200,000 scenes it takes over a second of every
 * start, and damage met later is said at once all the same (health.ts).
 */
function checkIntact(db: Database): void {
  const first = db.query<{ quick_check: string }, []>("PRAGMA quick_check(1)").get()?.quick_check;
  if (first !== "ok")
    throw Object.assign(new Error(`database disk image is malformed: ${first}`), { code: "SQLITE_CORRUPT" });
}

/** Whether the last run closed the database (store.close); a new or unmigrated database has nothing to check. */
function closedCleanly(db: Database, version: number): boolean {
  if (version === 0) return true;
  try {
    return db.query<{ value: string }, []>("SELECT value FROM meta WHERE key = 'closedCleanly'").get()?.value === "1";
  } catch {
    return false;
  }
}

/** Opens (creating and migrating) the database, or throws a DatabaseStartError that says how to fix it. */
function open(dataDir: string, path: string, running: boolean): Database {
  checkDataDir(dataDir);
  try {
    const db = new Database(path, { create: true, strict: true });
    db.exec(
      "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA busy_timeout = 5000; PRAGMA foreign_keys = ON;",
    );
    const current = (db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
    if (!closedCleanly(db, current)) checkIntact(db);
    // Running: a stop that does not reach close() leaves this, and the next start checks every page.
    if (running && current > 0)
      db.run("INSERT INTO meta (key, value) VALUES ('closedCleanly', '0') ON CONFLICT (key) DO UPDATE SET value = '0'");
    // A migration cannot be undone: the database as it was is kept first (an older stash2plex can use it).
    if (current > 0 && current < MIGRATIONS.length && path !== ":memory:")
      makeBackup(db, backupsDir(dataDir), {
        kind: "pre-migration",
        at: Date.now(),
        keep: PRE_MIGRATION_KEPT,
        newestSchema: current,
      });
    for (let v = current; v < MIGRATIONS.length; v++) {
      db.transaction(() => {
        db.exec(MIGRATIONS[v]!);
        db.exec(`PRAGMA user_version = ${v + 1}`);
      })();
    }
    return db;
  } catch (err) {
    const trouble = databaseTrouble(err, path);
    throw new DatabaseStartError(
      trouble ? trouble.message : `cannot open the database ${path}: ${(err as Error).message}`,
    );
  }
}

/** The database's file name in the data folder. */
export const DATABASE_FILE = "stash2plex.sqlite";

/**
 * Runs `work` as one transaction that waits on no disk sync of its own, for records that can be
 * made again from Plex or Stash (the Plex index, artwork records, our collections), which a start writes in
 * thousands of transactions (a sync each was ~1 min of a 200,000-scene first start, and slowed
 * the episode folder's links on the same disk). WAL keeps the file whole; a power cut may lose
 * such a transaction, and the next ordinary commit (every queue write) syncs it with its own.
 */
export function redoable<T>(db: Database, work: () => T): T {
  db.exec("PRAGMA synchronous = NORMAL");
  try {
    return db.transaction(work)();
  } finally {
    db.exec("PRAGMA synchronous = FULL");
  }
}

/**
 * `log`: where trouble met while running is said (health.ts); one-shot commands need none.
 * `service`: this is the service's own run (not a command beside it): it notes whether it stopped
 * cleanly, which decides the next start's whole-file check.
 */
export function openStore(dataDir: string, file = DATABASE_FILE, log: Logger = silentLogger, service = false) {
  const path = dataDir === ":memory:" ? ":memory:" : join(dataDir, file);
  const db = open(dataDir, path, service);
  const health = createDatabaseHealth({ db, path, log });
  // From here on, any statement meeting trouble (a full disk, a damaged page) says so at once.
  reportErrors(db, health.report);
  const getMeta = db.query<{ value: string }, [string]>("SELECT value FROM meta WHERE key = ?");
  const setMeta = db.query(
    "INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
  );
  return {
    db,
    path,
    /** The database's trouble while running, and the look that finds and clears it (health.ts). */
    health,
    meta: {
      get: (key: string): string | undefined => getMeta.get(key)?.value,
      set: (key: string, value: string) => void setMeta.run(key, value),
    },
    /** For /readyz: a real (tiny) write, so a read-only or full disk shows up. */
    writable(): boolean {
      db.transaction(() => {
        setMeta.run("readyz", String(Date.now()));
      })();
      return true;
    },
    /** Closes it, noting the stop was clean (the next start skips the whole-file check). */
    close: () => {
      try {
        if (service) setMeta.run("closedCleanly", "1");
      } catch {
        // A database that cannot be written now: the next start checks every page, as it should.
      }
      db.close();
    },
  };
}
