/**
 * The service's backups (backup.ts makes and checks each file): the scheduled job, on-demand
 * backups for the dashboard, the API and the CLI, and the list the pages show.
 *
 * The schedule follows the newest scheduled backup on disk, not the process: a service
 * restarted every few hours still backs up once a day, and one that was off for a week backs up
 * soon after it starts.
 */
import type { Job } from "../jobs.ts";
import type { Logger } from "../log.ts";
import type { Store } from "./db.ts";
import { SCHEMA_VERSION } from "./db.ts";
import { type BackupFile, type BackupKind, backupsDir, listBackups, makeBackup } from "./backup.ts";

export interface BackupOptions {
  /** Hours between scheduled backups; 0: none on a schedule. */
  everyHours: number;
  /** Scheduled backups kept (on-demand ones are kept as many again). */
  keep: number;
}

/** A first scheduled backup no sooner than this after start-up (the service has settled). */
const FIRST_AFTER_S = 10 * 60;

export function createBackups(
  deps: { store: Store; dataDir: string; log: Logger; now?: () => number } & BackupOptions,
) {
  const now = deps.now ?? Date.now;
  const dir = backupsDir(deps.dataDir);
  const inMemory = deps.dataDir === ":memory:";

  function take(kind: Exclude<BackupKind, "pre-migration">): BackupFile {
    if (inMemory) throw new Error("the database is in memory (DATA_DIR=:memory:): there is nothing to back up");
    const startedAt = performance.now();
    const file = makeBackup(deps.store.db, dir, { kind, at: now(), keep: deps.keep, newestSchema: SCHEMA_VERSION });
    deps.log.info("database backed up", {
      file: file.path,
      kind,
      bytes: file.bytes,
      ms: Math.round(performance.now() - startedAt),
    });
    return file;
  }

  const every = Math.round(deps.everyHours * 3600);
  /** Seconds from now until the next scheduled backup is due, by the newest one on disk. */
  const dueInSeconds = () => {
    const last = listBackups(dir).find((b) => b.kind === "scheduled");
    const due = last ? Math.ceil((last.at + every * 1000 - now()) / 1000) : 0;
    return Math.max(due, FIRST_AFTER_S);
  };
  const job: Job | undefined =
    every > 0 && !inMemory
      ? {
          id: "backup",
          name: "Back up the database",
          everySeconds: every,
          firstAfterSeconds: dueInSeconds(),
          run: async () => {
            try {
              take("scheduled");
            } catch (err) {
              deps.log.error(`the scheduled backup failed: ${(err as Error).message}`);
              throw err;
            }
          },
        }
      : undefined;

  return {
    dir,
    /** A backup now (dashboard, API, CLI); throws with what went wrong. */
    take,
    list: (): BackupFile[] => (inMemory ? [] : listBackups(dir)),
    jobs: job ? [job] : [],
  };
}
export type Backups = ReturnType<typeof createBackups>;
