/**
 * One service per data folder: `serve` holds an exclusive lock on `stash2plex.lock` beside
 * the database for as long as it runs. The lock is SQLite's own (a POSIX advisory lock on
 * the file, taken by an EXCLUSIVE transaction that is never committed), so the kernel drops
 * it when the process ends in any way, kill -9 included: no stale pid file to clean up.
 * One-shot commands (reconcile, sync) do not take it: they run beside the service.
 */
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { checkDataDir, DatabaseStartError } from "./db.ts";

export const LOCK_FILE = "stash2plex.lock";

export interface DataDirLock {
  path: string;
  release(): void;
}

/** Takes the data folder's lock, or throws a DatabaseStartError saying another service holds it. */
export function lockDataDir(dataDir: string): DataDirLock {
  if (dataDir === ":memory:") return { path: dataDir, release: () => {} };
  checkDataDir(dataDir);
  const path = join(dataDir, LOCK_FILE);
  let db: Database | undefined;
  try {
    db = new Database(path, { create: true });
    // No waiting: a second service is told at once.
    db.exec("PRAGMA busy_timeout = 0");
    db.exec("BEGIN EXCLUSIVE");
  } catch (err) {
    db?.close();
    const code = String((err as { code?: unknown }).code ?? "");
    if (code.startsWith("SQLITE_BUSY") || code.startsWith("SQLITE_LOCKED")) {
      throw new DatabaseStartError(
        `another stash2plex is already running on the data folder ${dataDir} (it holds ${path}): ` +
          "stop it first, or give this one its own DATA_DIR",
      );
    }
    throw new DatabaseStartError(`cannot lock the data folder ${dataDir} (${path}): ${(err as Error).message}`);
  }
  return {
    path,
    release: () => db.close(),
  };
}
