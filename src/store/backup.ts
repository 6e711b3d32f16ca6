/**
 * Backups of the database, as Sonarr and Radarr keep them: in `backups/` of the data folder, on a
 * schedule (daily by default, the newest 7 kept), on demand, and before every schema migration.
 *
 * A backup is taken online with `VACUUM INTO`: SQLite writes a consistent copy from one read
 * transaction while the service goes on writing (bun:sqlite has no binding for the page-by-page
 * backup API; this is SQLite's other online copy, and it leaves no free pages behind). It is
 * written under a hidden `.partial` name, opened and checked whole (`integrity_check`), and only
 * then renamed into place and the oldest of its kind removed: a half-written or damaged copy
 * never replaces a good one. A file's kind and time are in its name, so the schedule reads them
 * back after a restart without a table (and a restored database does not forget its backups).
 */
import { Database } from "bun:sqlite";
import { mkdirSync, readdirSync, renameSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";

export type BackupKind = "scheduled" | "manual" | "pre-migration";

export interface BackupFile {
  name: string;
  path: string;
  kind: BackupKind;
  /** When it was taken (ms since the epoch, from its name). */
  at: number;
  bytes: number;
}

/** The backups' folder in a data folder. */
export const backupsDir = (dataDir: string) => join(dataDir, "backups");

/** `stash2plex-20261207T120000123Z-scheduled.sqlite`: sortable, and the kind and time read back. */
const NAME = /^stash2plex-(\d{8}T\d{9}Z)-(scheduled|manual|pre-migration)\.sqlite$/;
const stampOf = (at: number) => new Date(at).toISOString().replace(/[-:.]/g, "");
const atOf = (stamp: string) =>
  Date.parse(
    `${stamp.slice(0, 4)}-${stamp.slice(4, 6)}-${stamp.slice(6, 8)}T${stamp.slice(9, 11)}:${stamp.slice(11, 13)}:${stamp.slice(13, 15)}.${stamp.slice(15, 18)}Z`,
  );

/** A backup that cannot be used: what is wrong with it, in one line. */
export class BackupError extends Error {}

/**
 * Opens a database file read-only and checks it whole: every page (`integrity_check`), a schema
 * this version knows, and the tables the service needs. Returns its schema version.
 */
export function verifyBackup(path: string, newestSchema: number): { schemaVersion: number } {
  let db: Database | undefined;
  try {
    db = new Database(path, { readonly: true });
    const result = db.query<{ integrity_check: string }, []>("PRAGMA integrity_check(1)").get()?.integrity_check;
    if (result !== "ok") throw new BackupError(`${path} is damaged: ${result}`);
    const version = db.query<{ user_version: number }, []>("PRAGMA user_version").get()!.user_version;
    if (version < 1) throw new BackupError(`${path} is not a stash2plex database (no schema)`);
    if (version > newestSchema)
      throw new BackupError(
        `${path} comes from a newer stash2plex (schema ${version}; this one knows up to ${newestSchema}): restore it with that version`,
      );
    const tables = new Set(
      db
        .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table'")
        .all()
        .map((r) => r.name),
    );
    for (const t of ["meta", "jobs", "delivered"])
      if (!tables.has(t)) throw new BackupError(`${path} is not a stash2plex database (no ${t} table)`);
    return { schemaVersion: version };
  } catch (err) {
    if (err instanceof BackupError) throw err;
    throw new BackupError(`${path} cannot be read as a database: ${(err as Error).message}`);
  } finally {
    db?.close();
  }
}

/** Every backup in the folder, newest first (files of other names are not ours: left out). */
export function listBackups(dir: string): BackupFile[] {
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names
    .flatMap((name) => {
      const m = NAME.exec(name);
      if (!m) return [];
      const path = join(dir, name);
      return [{ name, path, kind: m[2] as BackupKind, at: atOf(m[1]!), bytes: statSync(path).size }];
    })
    .sort((a, b) => b.at - a.at);
}

/**
 * Takes a backup of an open database into `dir`, checks it, then keeps the newest `keep` of its
 * kind. Throws a BackupError (nothing replaced, no partial file left) when it cannot.
 */
export function makeBackup(
  db: Database,
  dir: string,
  options: { kind: BackupKind; at: number; keep: number; newestSchema: number },
): BackupFile {
  mkdirSync(dir, { recursive: true });
  const name = `stash2plex-${stampOf(options.at)}-${options.kind}.sqlite`;
  const partial = join(dir, `.${name}.partial`);
  rmSync(partial, { force: true });
  try {
    db.query("VACUUM INTO ?").run(partial);
    verifyBackup(partial, options.newestSchema);
    renameSync(partial, join(dir, name));
  } catch (err) {
    rmSync(partial, { force: true });
    if (err instanceof BackupError) throw err;
    throw new BackupError(`the backup into ${dir} failed: ${(err as Error).message}`);
  }
  for (const old of listBackups(dir)
    .filter((b) => b.kind === options.kind)
    .slice(Math.max(options.keep, 1)))
    rmSync(old.path, { force: true });
  return listBackups(dir).find((b) => b.name === name)!;
}
