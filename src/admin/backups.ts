/**
 * The backup API: `GET /api/backups` lists the database's backups (newest first), `POST
 * /api/backups` takes one now. Both need the admin token: a backup holds the queue and history.
 * A backup that fails (a full disk, say) is a 507/500 with what went wrong, never a partial file.
 */
import { Elysia } from "elysia";
import { HttpError } from "../http.ts";
import { BackupError, type BackupFile } from "../store/backup.ts";
import type { Backups } from "../store/backups.ts";
import type { Access } from "./access.ts";

/** A backup as the API and the dashboard show it: its name, kind, time and size (no path: the folder is the data folder's). */
export const backupView = (b: BackupFile) => ({ name: b.name, kind: b.kind, at: b.at, bytes: b.bytes });

/** Takes a backup now; a failure is an HttpError naming it. */
export function backUpNow(backups: Pick<Backups, "take">): BackupFile {
  try {
    return backups.take("manual");
  } catch (err) {
    const message = (err as Error).message;
    const full = /SQLITE_FULL|disk is full|ENOSPC/i.test(message);
    if (err instanceof BackupError || full)
      throw new HttpError(full ? 507 : 500, full ? "disk_full" : "backup_failed", `the backup failed: ${message}`);
    throw new HttpError(409, "backup_unavailable", message);
  }
}

export const backupRoutes = (src: { access: Access; backups: Pick<Backups, "take" | "list"> }) =>
  new Elysia({ name: "backups" })
    .get("/api/backups", ({ request }) => {
      src.access.requireAdmin(request.headers);
      return { backups: src.backups.list().map(backupView) };
    })
    .post("/api/backups", ({ request, set }) => {
      src.access.requireAdmin(request.headers);
      set.status = 201;
      return { backup: backupView(backUpNow(src.backups)) };
    });
