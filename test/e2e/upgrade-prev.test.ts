/**
 * Upgrade from earlier releases with nothing lost. Each fixture was written by that release's own
 * code (test/fixtures/make-prev-db.ts, run from a worktree of it) with 25 jobs pending behind a
 * down Plex, dead letters, deliveries and an outage:
 * - v11-pending.db: the previous release (commit 2f54f45, schema 11);
 * - v9-pending.db: the one before it (commit 1f2f354, schema 9).
 * Today's service starts on a copy: the database as it was is backed up first, migrated once, and
 * every pending change is delivered.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { plexFilesFor } from "../../src/demo.ts";
import { DATABASE_FILE, SCHEMA_VERSION } from "../../src/store/db.ts";
import { backupsDir, listBackups, verifyBackup } from "../../src/store/backup.ts";
import { parseRefKey } from "../../src/domain/ref.ts";
import { IDENTIFIER, scanThroughScratchProvider, tempDir, testEnv, waitFor } from "../helpers.ts";

/** A previous release's database, and what its migration must have added. */
const RELEASES = [
  { file: "v13-pending.db", version: 13, added: "the index of GUID pages" },
  {
    file: "v11-pending.db",
    version: 11,
    added: "the collections table, the index of episode tokens and of GUID pages",
  },
  { file: "v9-pending.db", version: 9, added: "sizes in the Plex index and the identity table" },
] as const;

/** What a release left: its schema and its pending jobs, read from a copy. */
function readOld(fixture: string) {
  const copy = join(tempDir(), "old.db");
  copyFileSync(fixture, copy);
  const db = new Database(copy, { readonly: true });
  const old = {
    version: (db.query("PRAGMA user_version").get() as { user_version: number }).user_version,
    pending: (db.query("SELECT ref FROM jobs").all() as { ref: string }[]).map((r) => r.ref),
    dead: (db.query("SELECT ref FROM dead_letters").all() as { ref: string }[]).map((r) => r.ref),
  };
  db.close();
  return old;
}

const schemaHas = (app: App, type: string, name: string) =>
  app.store.db.query("SELECT 1 FROM sqlite_master WHERE type = ? AND name = ?").get(type, name) !== null;

for (const release of RELEASES)
  describe(`upgrading from an earlier release (schema ${release.version})`, () => {
    const fixture = join(import.meta.dir, "../fixtures", release.file);
    const old = readOld(fixture);
    let stash: StashSim;
    let pms: PmsSim;
    let app: App;
    let dataDir: string;

    beforeAll(async () => {
      // The same library the fixture was made against (seed 3, 200 scenes), Plex up again.
      stash = new StashSim({ scenes: 200, seed: 3 }).start();
      pms = new PmsSim().start();
      pms.addSection(
        { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
        plexFilesFor(stash),
      );
      const env = testEnv(stash, pms, {
        SYNC_RETRY_BASE_SECONDS: "0.05",
        SYNC_RETRY_CAP_SECONDS: "0.4",
        SYNC_SWEEP_SECONDS: "1",
        SYNC_DRAIN_PER_SECOND: "2000",
      });
      dataDir = env.DATA_DIR!;
      copyFileSync(fixture, join(dataDir, DATABASE_FILE));
      // The library Plex had before; the items of 12 and 13 were deleted in Plex, as when the fixture was made.
      await scanThroughScratchProvider(stash, pms);
      for (const item of [...pms.items.values()])
        if (/\/movie\/1[23]$/.test(item.guid)) pms.items.delete(item.ratingKey);
      app = createApp(loadConfig(env, undefined), { log: silentLogger });
      await app.start(0, "127.0.0.1");
      pms.providerUrl = app.url!;
    }, 60_000);
    afterAll(async () => {
      await app?.stop();
      await pms?.stop();
      await stash?.stop();
    });

    test(`the fixture is that release's: schema ${release.version}, 25 jobs pending, 2 dead letters`, () => {
      expect(old.version).toBe(release.version);
      expect(old.pending).toHaveLength(25);
      expect(old.dead).toHaveLength(2);
    });

    test(`the database as it was is backed up before the migration, and the migration ran (${release.added})`, () => {
      const [before] = listBackups(backupsDir(dataDir)).filter((b) => b.kind === "pre-migration");
      expect(before).toBeDefined();
      expect(verifyBackup(before!.path, SCHEMA_VERSION).schemaVersion).toBe(release.version);
      const version = (app.store.db.query("PRAGMA user_version").get() as { user_version: number }).user_version;
      expect(version).toBe(SCHEMA_VERSION);
      const columns = (app.store.db.query("PRAGMA table_info(plex_files)").all() as { name: string }[]).map(
        (c) => c.name,
      );
      expect(columns).toEqual(expect.arrayContaining(["size", "duration_ms"]));
      expect(schemaHas(app, "table", "identity")).toBe(true);
      expect(schemaHas(app, "table", "collections")).toBe(true);
      expect(schemaHas(app, "index", "plex_files_token")).toBe(true);
      expect(schemaHas(app, "index", "plex_items_guid_key")).toBe(true);
      expect(schemaHas(app, "index", "plex_items_guid")).toBe(false);
    });

    test("every pending job of the old database is delivered, and its dead letters are kept", async () => {
      const refs = old.pending.map((key) => parseRefKey(key)!);
      const waiting = () =>
        refs.filter((ref) => app.queue.job(ref) !== undefined || !app.queue.delivery(ref)).map((ref) => ref.id);
      await waitFor(() => waiting().length === 0, 30_000);
      expect(waiting()).toEqual([]);
      for (const key of old.dead) expect(app.queue.deadLetter(parseRefKey(key)!)).toBeDefined();
    }, 40_000);
  });
