/**
 * Backups (issue 27, part 2): the real app on a fake clock backs its database up daily and keeps
 * 7, each checked whole; one is taken on demand from the API and the dashboard; one is taken
 * before a schema migration; and `stash2plex restore` (a real process) puts one back so that the
 * next start delivers every change made in Stash since it was taken.
 */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, existsSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { plexFilesFor } from "../../src/demo.ts";
import { backupsDir, listBackups, verifyBackup } from "../../src/store/backup.ts";
import { DATABASE_FILE, openStore, SCHEMA_VERSION } from "../../src/store/db.ts";
import { lockDataDir } from "../../src/store/lock.ts";
import { IDENTIFIER, adminAuth, adminGet, scene, spawnMain, tempDir, testEnv, waitFor } from "../helpers.ts";

const HOUR = 3600_000;
const closers: (() => Promise<void> | void)[] = [];
afterAll(async () => {
  for (const close of closers.reverse()) await close();
});

function world(scenes = 40) {
  const stash = new StashSim({ scenes, seed: 27 }).start();
  const pms = new PmsSim().start();
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
    plexFilesFor(stash),
  );
  closers.push(
    () => pms.stop(),
    () => stash.stop(),
  );
  return { stash, pms };
}

async function startApp(env: Record<string, string>, clock?: () => number): Promise<App> {
  const app = createApp(loadConfig(env, undefined), { log: silentLogger, schedulerClock: clock });
  await app.start(0, "127.0.0.1");
  return app;
}

/** A restore as a person runs it: its own process, the same settings as the service. */
async function restore(env: Record<string, string>, file: string) {
  const proc = spawnMain(env, ["restore", file]);
  const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
  return { code, out };
}

describe("scheduled backups", () => {
  test("one a day on the fake clock, the newest 7 kept, each checked whole; none at start-up", async () => {
    const { stash, pms } = world();
    let clock = Date.parse("2026-03-01T12:00:00Z");
    const env = testEnv(stash, pms);
    const app = await startApp(env, () => clock);
    closers.push(() => app.stop());
    pms.providerUrl = app.url!;
    const dir = backupsDir(env.DATA_DIR!);
    await app.scheduler.tick();
    expect(listBackups(dir)).toEqual([]); // not at once: the service settles first
    clock += 11 * 60_000;
    await app.scheduler.tick();
    expect(listBackups(dir).map((b) => b.kind)).toEqual(["scheduled"]);
    for (let day = 1; day <= 9; day++) {
      clock += 12 * HOUR;
      await app.scheduler.tick();
      expect(listBackups(dir)).toHaveLength(Math.min(day, 7)); // not twice a day
      clock += 12 * HOUR;
      await app.scheduler.tick();
    }
    const kept = listBackups(dir);
    expect(kept).toHaveLength(7);
    // The newest 7, a day apart; no half-written file left.
    expect(kept[0]!.at).toBe(clock);
    for (let i = 1; i < kept.length; i++) expect(kept[i - 1]!.at - kept[i]!.at).toBe(24 * HOUR);
    expect(readdirSync(dir).filter((n) => n.includes("partial"))).toEqual([]);
    for (const b of kept) expect(verifyBackup(b.path, SCHEMA_VERSION).schemaVersion).toBe(SCHEMA_VERSION);
    // Listed on the jobs page with the schedule.
    const page = await (await adminGet(`${app.url}/ui/jobs`)).text();
    expect(page).toContain("Back up the database");
    expect(page).toContain(kept[0]!.name);
    expect(page).toContain("the newest 7 kept");
  }, 60_000);

  test("after a restart the schedule follows the newest backup on disk, not the process", async () => {
    const { stash, pms } = world();
    let clock = Date.parse("2026-03-01T12:00:00Z");
    const env = testEnv(stash, pms);
    const first = await startApp(env, () => clock);
    clock += 11 * 60_000;
    await first.scheduler.tick();
    await first.stop();
    expect(listBackups(backupsDir(env.DATA_DIR!))).toHaveLength(1);
    // Restarted two hours later: the next backup is due 24 h after the last one, not 10 min after the start.
    clock += 2 * HOUR;
    const again = await startApp(env, () => clock);
    closers.push(() => again.stop());
    const job = again.scheduler.list().find((j) => j.id === "backup")!;
    expect(job.nextRunAt).toBe(clock + 22 * HOUR);
  }, 60_000);
});

describe("backups on demand and before a migration", () => {
  test("the API and the dashboard take one now; without the admin token nothing is taken", async () => {
    const { stash, pms } = world();
    const env = testEnv(stash, pms);
    const app = await startApp(env);
    closers.push(() => app.stop());
    const dir = backupsDir(env.DATA_DIR!);
    expect((await fetch(`${app.url}/api/backups`, { method: "POST" })).status).toBe(401);
    expect(listBackups(dir)).toEqual([]);
    const res = await fetch(`${app.url}/api/backups`, { method: "POST", headers: adminAuth });
    expect(res.status).toBe(201);
    const { backup } = (await res.json()) as { backup: { name: string; kind: string; bytes: number } };
    expect(backup.kind).toBe("manual");
    expect(JSON.stringify(backup)).not.toContain(env.DATA_DIR!); // no path of the host in the answer
    expect(listBackups(dir).map((b) => b.name)).toEqual([backup.name]);
    const form = await fetch(`${app.url}/ui/actions/backup`, {
      method: "POST",
      redirect: "manual",
      headers: { ...adminAuth, "content-type": "application/x-www-form-urlencoded" },
      body: "",
    });
    expect(decodeURIComponent(form.headers.get("location") ?? "")).toContain("backed up: stash2plex-");
    expect(listBackups(dir)).toHaveLength(2);
    const listed = (await (await adminGet(`${app.url}/api/backups`)).json()) as { backups: unknown[] };
    expect(listed.backups).toHaveLength(2);
  }, 30_000);

  test("a database of an older schema is backed up as it was before it is migrated", () => {
    // A database an older stash2plex left (schema 5, a push waiting: test/fixtures).
    const dataDir = tempDir("s2p-premigration-");
    copyFileSync(join(import.meta.dir, "../fixtures/v0-pending.db"), join(dataDir, DATABASE_FILE));
    openStore(dataDir).close();
    const [before] = listBackups(backupsDir(dataDir));
    expect(before?.kind).toBe("pre-migration");
    expect(verifyBackup(before!.path, SCHEMA_VERSION).schemaVersion).toBe(5);
    // Opened again, nothing to migrate: no second one.
    openStore(dataDir).close();
    expect(listBackups(backupsDir(dataDir))).toHaveLength(1);
  });
});

describe("stash2plex restore", () => {
  test("a database lost while Plex was down: the backup restored, the next start delivers every edit made since", async () => {
    const { stash, pms } = world(60);
    const env = testEnv(stash, pms);
    let app = await startApp(env);
    pms.providerUrl = app.url!;
    await app.stashIndex.refresh();
    await app.poller.poll(); // its bookmark: Stash as it is now
    const taken = await fetch(`${app.url}/api/backups`, { method: "POST", headers: adminAuth });
    const { backup } = (await taken.json()) as { backup: { name: string } };
    const file = join(backupsDir(env.DATA_DIR!), backup.name);

    // Plex goes down; five scenes are edited in Stash; the pushes wait in the queue.
    await pms.stop();
    const edited = ["3", "8", "13", "21", "34"];
    for (const id of edited) stash.library.update(id, { title: `Edited after the backup ${id}` });
    await Bun.sleep(1100); // Stash stamps to the second: the edits are newer than the backup's bookmark
    await app.poller.poll();
    expect(edited.every((id) => app.queue.job(scene(id)) !== undefined)).toBe(true);
    await app.stop();
    // The disk loses the database (and its WAL): only the backup is left.
    for (const suffix of ["", "-wal", "-shm"])
      rmSync(join(env.DATA_DIR!, `${DATABASE_FILE}${suffix}`), { force: true });

    // While a service holds the data folder, a restore is refused and changes nothing.
    const held = lockDataDir(env.DATA_DIR!);
    const refused = await restore(env, file);
    held.release();
    expect(refused.code).toBe(1);
    expect(refused.out).toContain("another stash2plex is already running");
    expect(existsSync(join(env.DATA_DIR!, DATABASE_FILE))).toBe(false);

    const done = await restore(env, file);
    expect(done.code).toBe(0);
    expect(done.out).toContain(`restored ${file}`);
    expect(done.out).toContain("polled again and pushed");

    pms.start();
    app = await startApp(env);
    closers.push(() => app.stop());
    pms.providerUrl = app.url!;
    await app.poller.poll();
    const titleInPlex = (id: string) =>
      [...pms.items.values()].find((i) => i.guid === `${IDENTIFIER}://movie/${id}`)?.title;
    expect(await waitFor(() => edited.every((id) => titleInPlex(id) === `Edited after the backup ${id}`), 20_000)).toBe(
      true,
    );
  }, 60_000);

  test("a damaged file, a missing one or one of a newer version is refused with why; the database stays", async () => {
    const { stash, pms } = world();
    const env = testEnv(stash, pms);
    openStore(env.DATA_DIR!).close();
    const damaged = join(tempDir("s2p-bad-backup-"), "damaged.sqlite");
    writeFileSync(damaged, "SQLite format 3\u0000 but not really a database".padEnd(8192, "x"));
    const bad = await restore(env, damaged);
    expect(bad.code).toBe(1);
    expect(bad.out).toContain("nothing was changed");
    const newer = join(tempDir("s2p-new-backup-"), "newer.sqlite");
    const db = new Database(newer, { create: true });
    db.exec(
      `CREATE TABLE meta (key TEXT); CREATE TABLE jobs (x); CREATE TABLE delivered (x); PRAGMA user_version = ${SCHEMA_VERSION + 1}`,
    );
    db.close();
    const tooNew = await restore(env, newer);
    expect(tooNew.code).toBe(1);
    expect(tooNew.out).toContain("comes from a newer stash2plex");
    const missing = await restore(env, "/nonexistent/backup.sqlite");
    expect(missing.code).toBe(1);
    expect(missing.out).toContain("does not exist");
    expect(existsSync(join(env.DATA_DIR!, DATABASE_FILE))).toBe(true);
    expect(readdirSync(env.DATA_DIR!).some((n) => n.endsWith(".restoring"))).toBe(false);
  }, 30_000);
});
