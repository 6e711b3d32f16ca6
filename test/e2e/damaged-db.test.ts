/**
 * A database whose header is intact but whose pages are damaged (a disk error, a copy cut
 * short): start-up says so in one line with what to do, exit 1, never a stack trace, and never
 * runs on with a damaged queue. Real files, corrupted on disk page by page; the real process.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { closeSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { freePort } from "../../sim/sim-server.ts";
import { openStore } from "../../src/store/db.ts";
import { adminAuth, healthy, spawnMain, tempDir, testEnv } from "../helpers.ts";

let stash: StashSim;
let pms: PmsSim;
beforeAll(() => {
  stash = new StashSim({ scenes: 5 }).start();
  pms = new PmsSim().start();
});
afterAll(async () => {
  await pms.stop();
  await stash.stop();
});

/**
 * A data folder whose database has rows in every table, then junk over the pages of `table`.
 * `stop`: how the last run ended — "crash" (no clean close: a kill -9, a power cut, when pages
 * get torn) or "clean" (store.close).
 */
function damaged(table: string, stop: "crash" | "clean" = "crash"): string {
  const dir = tempDir();
  // As the service opens it: a clean stop is noted, a crash leaves "running".
  const store = openStore(dir, undefined, undefined, true);
  const { db } = store;
  db.exec("INSERT INTO meta VALUES ('plexIndexAt:1', '1700000000')");
  db.exec(
    "INSERT INTO jobs (ref, state, reason, first_queued_at, queued_at, next_attempt_at) VALUES ('default:scene:1', 'pending', 'test', 1, 1, 1)",
  );
  db.exec("INSERT INTO outages (started_at, ended_at, jobs_waiting) VALUES (1, 2, 3)");
  const item = db.query("INSERT INTO plex_items VALUES (?, '1', ?, ?, 0)");
  db.transaction(() => {
    for (let i = 0; i < 2000; i++) item.run(String(i), `local://${i}`, `An item title number ${i}`);
  })();
  db.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const pageSize = (db.query("PRAGMA page_size").get() as { page_size: number }).page_size;
  const pages = (db.query("SELECT pageno FROM dbstat WHERE name = ?").all(table) as { pageno: number }[]).map(
    (r) => r.pageno,
  );
  if (stop === "clean") store.close();
  else db.close();
  expect(pages.length).toBeGreaterThan(0);
  expect(pages).not.toContain(1); // the header page stays intact
  const fd = openSync(join(dir, "stash2plex.sqlite"), "r+");
  for (const page of pages) writeSync(fd, Buffer.alloc(pageSize, 0xa5), 0, pageSize, (page - 1) * pageSize);
  closeSync(fd);
  return dir;
}

describe("a database with damaged pages (header intact)", () => {
  // meta is read while the service is built (it ended in an uncaught SQLiteError); plex_items
  // only later (the service started and failed request by request).
  for (const table of ["meta", "plex_items"]) {
    test(`pages of ${table}: one line naming the file, what is wrong and what to do; exit 1; no stack trace`, async () => {
      const dir = damaged(table);
      const p = spawnMain({
        ...testEnv(stash, pms),
        DATA_DIR: dir,
        LISTEN_HOST: "127.0.0.1",
        LISTEN_PORT: String(freePort()),
      });
      const killer = setTimeout(() => p.kill("SIGKILL"), 10_000);
      const code = await p.exited;
      clearTimeout(killer);
      const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
      expect(code).toBe(1);
      expect(err).toContain(join(dir, "stash2plex.sqlite"));
      expect(err).toContain("damaged");
      expect(err).toContain("backup");
      expect(err.trim().split("\n")).toHaveLength(1);
      expect(err).not.toContain("    at ");
      expect(err).not.toContain("SQLiteError");
      expect(out).not.toContain("listening on");
    }, 20_000);
  }

  test("after a clean stop the start skips the whole-file check; damage met at the first read is one line, the provider answers", async () => {
    const dir = damaged("plex_items", "clean");
    const port = freePort();
    const p = spawnMain({ ...testEnv(stash, pms), DATA_DIR: dir, LISTEN_HOST: "127.0.0.1", LISTEN_PORT: String(port) });
    try {
      expect(await healthy(port)).toBe(true);
      // Something reads plex_items (the watch for a restored Plex reads the items Plex changed last).
      await fetch(`http://127.0.0.1:${port}/api/jobs/plex-rewind/run`, { method: "POST", headers: adminAuth });
      let out = "";
      const reader = p.stdout.getReader();
      const deadline = Date.now() + 10_000;
      while (!/is damaged/.test(out) && Date.now() < deadline) {
        const next = await Promise.race([reader.read(), Bun.sleep(500).then(() => null)]);
        if (next?.done) break;
        if (next?.value) out += new TextDecoder().decode(next.value);
      }
      reader.releaseLock();
      const said = out.split("\n").filter((l) => l.includes("is damaged"));
      expect(said).toHaveLength(1);
      expect(said[0]).toContain(join(dir, "stash2plex.sqlite"));
      expect(said[0]).toContain("restore the newest backup");
      expect(p.exitCode).toBeNull(); // running: Plex's scans are still answered
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).ok).toBe(true);
    } finally {
      p.kill("SIGKILL");
      await p.exited;
    }
  }, 30_000);

  test("`check` says the same about the data folder", async () => {
    const dir = damaged("plex_items");
    const p = spawnMain({ STASH_URL: stash.url, DATA_DIR: dir }, ["check"]);
    const [out, code] = await Promise.all([new Response(p.stdout).text(), p.exited]);
    expect(code).toBe(1);
    expect(out).toContain("FAIL data folder");
    expect(out).toContain("damaged");
  }, 20_000);
});
