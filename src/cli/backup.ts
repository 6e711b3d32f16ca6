/**
 * `stash2plex backup` (a backup now, beside the running service or not) and `stash2plex restore
 * <file>` (the service stopped: a backup checked, then put in place of the database).
 *
 * What a restore keeps and what the next start rebuilds: the backup holds the queue, the
 * delivery records, the poller's bookmark, write-back's records, the artwork records and the
 * reconcile reports as they were when it was taken. The next start polls Stash from that
 * bookmark, so every scene changed since is pushed again (a push is idempotent: one already in
 * Plex is written the same), and its first reconcile compares everything; the Plex index and
 * the index of Stash's files are rebuilt from Plex and Stash as at every start. The database
 * replaced is kept beside the backups, never deleted.
 */
import { copyFileSync, existsSync, mkdirSync, renameSync, rmSync } from "node:fs";
import { basename, join } from "node:path";
import type { Config } from "../config/schema.ts";
import { silentLogger } from "../log.ts";
import { DATABASE_FILE, type DatabaseStartError, openStore, SCHEMA_VERSION } from "../store/db.ts";
import { BackupError, backupsDir, verifyBackup } from "../store/backup.ts";
import { createBackups } from "../store/backups.ts";
import { lockDataDir } from "../store/lock.ts";

const mb = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;

/** `stash2plex backup`: exit 0 with the file written, 1 with why not. */
export function backupCommand(config: Config, print = console.log): number {
  try {
    const store = openStore(config.dataDir);
    try {
      const backups = createBackups({ store, dataDir: config.dataDir, log: silentLogger, ...config.backup });
      const file = backups.take("manual");
      print(`backed up the database to ${file.path} (${mb(file.bytes)}, checked whole)`);
      return 0;
    } finally {
      store.close();
    }
  } catch (err) {
    print(`stash2plex backup: ${(err as Error).message}`);
    return 1;
  }
}

/** `stash2plex restore <file>`: exit 0 restored, 1 refused (with why), 2 usage. */
export function restoreCommand(config: Config, args: string[], print = console.log): number {
  const file = args[0];
  if (!file || args.length > 1) {
    print(
      "usage: stash2plex restore <backup file>   (stop the service first; `stash2plex backup` or the jobs page makes one)",
    );
    return 2;
  }
  if (!existsSync(file)) {
    print(`stash2plex restore: ${file} does not exist (backups are in ${backupsDir(config.dataDir)})`);
    return 1;
  }
  let lock: ReturnType<typeof lockDataDir>;
  try {
    // The service holds this lock while it runs: a database is never swapped under it.
    lock = lockDataDir(config.dataDir);
  } catch (err) {
    print(`stash2plex restore: ${(err as DatabaseStartError).message}`);
    return 1;
  }
  const live = join(config.dataDir, DATABASE_FILE);
  const incoming = `${live}.restoring`;
  try {
    const { schemaVersion } = verifyBackup(file, SCHEMA_VERSION);
    const replaced = join(backupsDir(config.dataDir), `replaced-${new Date().toISOString().replace(/[-:.]/g, "")}`);
    // The database and its WAL and shared-memory files move together: apart, the WAL would be
    // applied to the wrong database.
    // The copy is made first: a disk too full for it leaves the database where it was.
    copyFileSync(file, incoming);
    const parts = ["", "-wal", "-shm"].map((suffix) => `${live}${suffix}`).filter((p) => existsSync(p));
    if (parts.length) {
      mkdirSync(replaced, { recursive: true });
      for (const p of parts) renameSync(p, join(replaced, basename(p)));
    }
    renameSync(incoming, live);
    print(
      `restored ${file} (schema ${schemaVersion}${schemaVersion < SCHEMA_VERSION ? ", upgraded at the next start" : ""})`,
    );
    if (parts.length) print(`the database it replaced is kept in ${replaced}`);
    print(
      "at the next start: changes made in Stash since the backup are polled again and pushed, the first reconcile " +
        "compares everything, and both indexes are rebuilt from Plex and Stash",
    );
    return 0;
  } catch (err) {
    const why = err instanceof BackupError ? err.message : `the restore failed: ${(err as Error).message}`;
    rmSync(incoming, { force: true });
    print(`stash2plex restore: ${why}; nothing was changed`);
    return 1;
  } finally {
    lock.release();
  }
}
