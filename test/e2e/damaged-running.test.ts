/**
 * A database damaged while the service runs (issue 27, part 3): a full disk, a deleted WAL,
 * damaged pages, a truncated file. Each is one log line and a red dashboard state saying what
 * happened and what to do; the provider keeps answering Plex; what the webhook hears is held in
 * memory, answered as not stored, and queued once the database works again; after the
 * documented recovery (restore the newest backup) every change made in Stash reaches Plex.
 * Real service, real SQLite files damaged on disk, the simulators.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { closeSync, existsSync, openSync, statSync, truncateSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { createLogger } from "../../src/log.ts";
import { plexPathFor } from "../../src/demo.ts";
import { restoreCommand } from "../../src/cli/backup.ts";
import { DATABASE_FILE } from "../../src/store/db.ts";
import { IDENTIFIER, WEBHOOK_TOKEN, addStashScene, adminAuth, adminGet, post, testEnv, waitFor } from "../helpers.ts";

interface World {
  stash: StashSim;
  pms: PmsSim;
  app: App;
  env: Record<string, string>;
  lines: string[];
  close(): Promise<void>;
}
let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const FAST = { SYNC_RETRY_BASE_SECONDS: "0.05", SYNC_SWEEP_SECONDS: "1", SYNC_DRAIN_PER_SECOND: "2000" };

async function startApp(env: Record<string, string>, lines: string[], schedulerClock?: () => number) {
  const log = createLogger({ level: "info", format: "json", write: (line) => lines.push(line) });
  const app = createApp(loadConfig(env, undefined), { log, schedulerClock });
  await app.start(0, "127.0.0.1");
  return app;
}

/**
 * `stillSchedule`: the scheduler's clock stands still after the jobs due at start ran, so the
 * database's own look runs only when a test triggers it. (Its tiny write rewrites a row in place,
 * which `max_page_count` lets through while a real full disk would not: a look in the middle of
 * a simulated full disk reads as healed.)
 */
async function world(options: { stillSchedule?: boolean } = {}): Promise<World> {
  const stash = new StashSim({ scenes: 60, seed: 28 }).start();
  const pms = new PmsSim().start();
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
    [...stash.library.scenes.values()].flatMap((s) => s.files.map((f) => plexPathFor(f.path))),
  );
  const env = testEnv(stash, pms, FAST);
  const lines: string[] = [];
  const startedAt = Date.now();
  const app = await startApp(env, lines, options.stillSchedule ? () => startedAt : undefined);
  if (options.stillSchedule) await app.scheduler.tick(); // the jobs due at start, run now and done with
  pms.providerUrl = app.url!;
  await app.stashIndex.refresh();
  await pms.scan("1");
  await app.refreshPlexIndex();
  await app.poller.poll();
  const made: World = {
    stash,
    pms,
    app,
    env,
    lines,
    async close() {
      await made.app.stop();
      await pms.stop();
      await stash.stop();
    },
  };
  return made;
}

const dbFile = (x: World) => join(x.env.DATA_DIR!, DATABASE_FILE);
const itemOf = (x: World, id: string) =>
  [...x.pms.items.values()].find((i) => i.guid === `${IDENTIFIER}://movie/${id}`);
const linesWith = (x: World, text: string) => x.lines.filter((l) => l.includes(text));
const hook = (x: World, ids: string[]) =>
  post(`${x.app.url}/hooks/stash`, { sceneIds: ids }, { authorization: `Bearer ${WEBHOOK_TOKEN}` });
/** The overview's headline: its level and its words. */
const headline = async (x: World) => {
  const page = await (await adminGet(`${x.app.url}/ui`)).text();
  const html = /<div class="headline[\s\S]*?<\/div>/.exec(page)?.[0] ?? page;
  return { level: /data-level="(\w+)"/.exec(html)?.[1], text: html.replace(/<[^>]*>/g, " ").replace(/\s+/g, " ") };
};
/** A new scene whose file Plex finds at its next scan: matched only if the provider answers. */
async function providerAnswers(x: World): Promise<boolean> {
  const path = `/data/stash/Late/Late Arrival ${x.stash.library.scenes.size}.mp4`;
  const id = addStashScene(x.stash, [path], { title: `Late arrival ${x.stash.library.scenes.size}` });
  x.pms.disk.get("1")!.push(plexPathFor(path));
  await x.app.stashIndex.refresh(); // the index of Stash's files is its own file: the damage is not its
  await x.pms.scan("1");
  return itemOf(x, id) !== undefined;
}
/** Junk over every page of a table, on disk, under the running service (the header page kept). */
function damagePages(x: World, table: string) {
  const { db } = x.app.store;
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const pageSize = (db.query("PRAGMA page_size").get() as { page_size: number }).page_size;
  const pages = (db.query("SELECT pageno FROM dbstat WHERE name = ?").all(table) as { pageno: number }[]).map(
    (r) => r.pageno,
  );
  const fd = openSync(dbFile(x), "r+");
  for (const page of pages) writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (page - 1) * pageSize);
  closeSync(fd);
  // The connection's page cache would hide the damage until it is evicted (a busy service's is).
  db.exec("PRAGMA cache_size = 0");
}

describe("a database damaged while the service runs", () => {
  test("a full disk: one line, red, the provider answers, the webhook's scenes held in memory and delivered once there is space", async () => {
    w = await world({ stillSchedule: true });
    // The disk fills up: the database cannot grow by one more page, and what the webhook writes
    // (a job and a history line per scene) finds no room left in its tables' pages either.
    const { db } = w.app.store;
    db.exec(`PRAGMA max_page_count = ${(db.query("PRAGMA page_count").get() as { page_count: number }).page_count}`);
    const fillers = [
      db.query("INSERT INTO job_history (ref, at, event, detail) VALUES (?, 0, 'filler', ?)"),
      // Jobs that never fall due, of an instance nobody polls.
      db.query(
        "INSERT INTO jobs (ref, state, reason, first_queued_at, queued_at, next_attempt_at) VALUES (?, 'pending', ?, 0, 0, 9e15)",
      ),
    ];
    let n = 0;
    for (const filler of fillers)
      for (const size of [1000, 100, 1])
        expect(() => {
          for (;;) filler.run(`filler:scene:${n++}`, "x".repeat(size));
        }).toThrow("full");
    const ids = ["4", "9", "16"];
    for (const id of ids) w.stash.library.update(id, { title: `Written while the disk was full ${id}` });
    const res = await hook(w, ids);
    expect(res.status).toBe(507);
    const { error } = (await res.json()) as { error: { message: string } };
    expect(error.message).toContain("is full");
    expect(error.message).toContain("held in memory");
    expect((await hook(w, ["25"])).status).toBe(507); // again: no second line
    // The database's own line, once (a poll or push meeting the full disk says its own failure too).
    expect(linesWith(w, "the disk holding the database")).toHaveLength(1);
    expect(await providerAnswers(w)).toBe(true);
    const head = await headline(w);
    expect(head.level).toBe("red");
    expect(head.text).toContain("The database cannot be written");
    expect(head.text).toContain("full");
    expect((await fetch(`${w.app.url}/readyz`)).status).toBe(503);
    // Space is freed: the next look stores what was held, and the pushes go out.
    db.exec("PRAGMA max_page_count = 1073741823");
    db.exec("DELETE FROM jobs WHERE ref LIKE 'filler:%'");
    w.app.scheduler.trigger("database");
    expect(
      await waitFor(() => ids.every((id) => itemOf(w!, id)?.title === `Written while the disk was full ${id}`), 20_000),
    ).toBe(true);
    // The readiness checks keep their answer 5 s (a /readyz loop must not write the disk each time).
    expect(await waitFor(async () => !(await headline(w!)).text.includes("The database"), 10_000)).toBe(true);
  }, 60_000);

  test("a disk remounted read-only (the kernel's answer to disk errors): one line, red, held in memory, stored once writable", async () => {
    w = await world();
    w.app.store.db.exec("PRAGMA query_only = 1"); // every write now fails as on a read-only filesystem
    w.stash.library.update("7", { title: "Written while the disk was read-only" });
    const res = await hook(w, ["7"]);
    expect(res.status).toBe(503);
    expect(((await res.json()) as { error: { message: string } }).error.message).toContain("held in memory");
    expect(await providerAnswers(w)).toBe(true);
    const head = await headline(w);
    expect(head.level).toBe("red");
    expect(head.text).toContain("cannot be written");
    expect(linesWith(w, "cannot be written")).toHaveLength(1);
    w.app.store.db.exec("PRAGMA query_only = 0");
    w.app.scheduler.trigger("database");
    expect(await waitFor(() => itemOf(w!, "7")?.title === "Written while the disk was read-only", 20_000)).toBe(true);
    expect(await waitFor(async () => (await headline(w!)).level !== "red", 10_000)).toBe(true);
  }, 60_000);

  test("a deleted WAL: repaired at the next look, one line, and what it held is in the database file", async () => {
    w = await world();
    w.app.store.meta.set("written-before", "kept");
    unlinkSync(`${dbFile(w)}-wal`);
    w.app.store.meta.set("written-after", "kept too");
    w.app.scheduler.trigger("database");
    expect(await waitFor(() => linesWith(w!, "WAL file").length === 1)).toBe(true);
    expect(existsSync(`${dbFile(w)}-wal`)).toBe(true);
    // Another process opening the file now (a backup, the next start) sees both writes.
    const other = new Database(dbFile(w), { readonly: true });
    const keys = other.query("SELECT key FROM meta WHERE key LIKE 'written-%' ORDER BY key").all();
    other.close();
    expect(keys).toEqual([{ key: "written-after" }, { key: "written-before" }]);
    expect(await providerAnswers(w)).toBe(true);
    expect((await headline(w)).text).not.toContain("The database");
  }, 60_000);

  for (const damage of ["damaged pages", "a truncated file"] as const)
    test(`${damage}: one line, red with what to do, the provider answers; restoring the backup delivers every edit made since`, async () => {
      w = await world();
      const backup = (await (
        await fetch(`${w.app.url}/api/backups`, { method: "POST", headers: adminAuth })
      ).json()) as { backup: { name: string } };
      if (damage === "damaged pages") damagePages(w, "plex_items");
      else {
        w.app.store.db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
        truncateSync(dbFile(w), Math.floor(statSync(dbFile(w)).size / 3));
        w.app.store.db.exec("PRAGMA cache_size = 0");
      }
      // Edits in Stash meanwhile; the service meets the damage when it next reads the index.
      const ids = ["5", "12", "30"];
      for (const id of ids) w.stash.library.update(id, { title: `Edited while the database was damaged ${id}` });
      await w.app.refreshPlexIndex().catch(() => {});
      await w.app.poller.poll().catch(() => {});
      await hook(w, ids);
      expect(await waitFor(() => w!.app.store.health.problem() !== null)).toBe(true);
      const said = w.lines.filter((l) => l.includes('"level":"error"') && l.includes(dbFile(w!)));
      expect(said).toHaveLength(1);
      expect(said[0]).toContain("restore the newest backup");
      const head = await headline(w);
      expect(head.level).toBe("red");
      expect(head.text).toContain(damage === "damaged pages" ? "The database is damaged" : "The database");
      expect(head.text).toContain("stash2plex restore");
      expect(await providerAnswers(w)).toBe(true);

      // The documented recovery: stop, restore the newest backup, start.
      await w.app.stop();
      const out: string[] = [];
      expect(
        restoreCommand(loadConfig(w.env, undefined), [join(w.env.DATA_DIR!, "backups", backup.backup.name)], (l) =>
          out.push(l),
        ),
      ).toBe(0);
      w.lines.length = 0;
      w.app = await startApp(w.env, w.lines);
      w.pms.providerUrl = w.app.url!;
      await w.app.poller.poll();
      expect(
        await waitFor(
          () => ids.every((id) => itemOf(w!, id)?.title === `Edited while the database was damaged ${id}`),
          20_000,
        ),
      ).toBe(true);
      expect(w.app.store.health.problem()).toBeNull();
    }, 60_000);
});
