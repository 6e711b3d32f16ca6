/** The index of Stash's files: built by paging, kept fresh by deltas, rebuilt to forget deleted scenes. */
import { afterAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { heapStats } from "bun:jsc";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { StashSim } from "../../sim/stash/server.ts";
import { createStashClient } from "../../src/stash/client.ts";
import { createFileIndex, fileIndexFile } from "../../src/stash/file-index.ts";

const sim = new StashSim({ scenes: 2500, seed: 4 }).start();
afterAll(() => sim.stop());

describe("Stash file index", () => {
  test("full build, then deltas, then an hourly rebuild that forgets deleted scenes", async () => {
    let t = 0;
    const client = createStashClient({ url: sim.url, apiKey: "", timeoutMs: 5000 });
    const index = createFileIndex(client, () => t);
    expect(index.ready).toBe(false);
    expect(await index.refresh()).toBe(2500);
    expect(index.ready).toBe(true);
    const scene = sim.library.scenes.get("7")!;
    expect(index.sceneIdByPath(scene.files[0]!.path)).toBe("7");
    expect(index.sceneIdsByBasename(scene.files[0]!.basename)).toEqual(["7"]);
    // NFD input finds the NFC-stored path.
    expect(index.sceneIdByPath(scene.files[0]!.path.normalize("NFD"))).toBe("7");

    const queriesBefore = sim.queries;
    sim.library.update("7", { title: "Renamed" });
    // The delta reads the watermark's second again (an edit later in it has the same stamp):
    // the newest seeded scene, and the edit.
    expect(await index.refresh()).toBe(2);
    expect(sim.queries - queriesBefore).toBe(1);
    expect(index.scene("7")?.title).toBe("Renamed");

    sim.library.remove("8");
    await index.refresh();
    expect(index.scene("8")).toBeDefined(); // deltas cannot see a deletion …
    t += 61 * 60 * 1000;
    await index.refresh();
    expect(index.scene("8")).toBeUndefined(); // … the hourly rebuild does
    expect(index.size).toBe(2499);
  });

  test("a rebuild that fails half-way keeps the index it had", async () => {
    let t = 0;
    let failAt = 0;
    const client = createStashClient({ url: sim.url, apiKey: "", timeoutMs: 5000 });
    const flaky = {
      ...client,
      sceneFilesPage: (page: number, perPage: number) =>
        page === failAt ? Promise.reject(new Error("Stash went away")) : client.sceneFilesPage(page, perPage),
    };
    const index = createFileIndex(flaky, () => t);
    await index.refresh();
    const size = index.size;
    const path = sim.library.scenes.get("9")!.files[0]!.path;
    failAt = 2;
    t += 61 * 60 * 1000;
    await expect(index.refresh()).rejects.toThrow("Stash went away");
    expect(index.size).toBe(size);
    expect(index.sceneIdByPath(path)).toBe("9");
  });
});

describe("Stash file index: memory (issue 19)", () => {
  const big = new StashSim({ scenes: 20_000, seed: 6 }).start();
  afterAll(() => big.stop());

  test("lives in its SQLite file in the data folder, not in the JS heap (a damaged file is replaced)", async () => {
    const dir = mkdtempSync(join(tmpdir(), "s2p-fi-"));
    const file = fileIndexFile(dir);
    // A file that is not a database is thrown away, never read (nor a crash).
    writeFileSync(file, "not a database ".repeat(100));
    const client = createStashClient({ url: big.url, apiKey: "", timeoutMs: 30_000 });
    Bun.gc(true);
    const heapBefore = heapStats().heapSize;
    const index = createFileIndex(client, Date.now, { file });
    expect(await index.refresh()).toBe(20_000);
    Bun.gc(true);
    const grewMb = (heapStats().heapSize - heapBefore) / 1024 / 1024;
    // As JS maps the index took ~1 KB of heap a scene (20 MB here); in SQLite the heap keeps
    // only what one lookup needs.
    expect(grewMb).toBeLessThan(5);
    const scene = big.library.scenes.get("12345")!;
    expect(index.sceneIdByPath(scene.files[0]!.path)).toBe("12345");
    expect(index.scene("12345")?.paths).toEqual(scene.files.map((f) => f.path.normalize("NFC")));
    index.close(); // it holds the file's lock while open
    const onDisk = new Database(file, { readonly: true });
    const tables = onDisk
      .query<{ name: string }, []>("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE '%scenes'")
      .all();
    expect(tables).toHaveLength(1);
    expect(onDisk.query<{ n: number }, []>(`SELECT count(*) AS n FROM ${tables[0]!.name}`).get()!.n).toBe(20_000);
    onDisk.close();
  });
});

describe("Stash file index: kept across restarts (issue 26)", () => {
  const client = createStashClient({ url: sim.url, apiKey: "", timeoutMs: 5000 });
  const built = async (dir: string, t = () => 0) => {
    const index = createFileIndex(client, t, { file: fileIndexFile(dir) });
    await index.refresh();
    return index;
  };

  test("a restart answers from the file before asking Stash anything, then catches up with one delta", async () => {
    const dir = mkdtempSync(join(tmpdir(), "s2p-fi-"));
    const first = await built(dir);
    first.close();
    // Edited while the service was down.
    sim.library.update("11", { title: "Edited while down" });

    const queries = sim.queries;
    const again = createFileIndex(client, () => 0, { file: fileIndexFile(dir) });
    expect(again.ready).toBe(true);
    expect(again.size).toBe(sim.library.scenes.size);
    const path = sim.library.scenes.get("12")!.files[0]!.path;
    expect(again.sceneIdByPath(path)).toBe("12");
    // Not complete until the delta ran: a miss asks Stash live meanwhile (nobody waits for it).
    expect(await again.complete()).toBe(false);
    await again.refresh();
    expect(sim.queries - queries).toBe(1); // one delta, no pages
    expect(again.scene("11")?.title).toBe("Edited while down");
    expect(await again.complete()).toBe(true);
    again.close();
  });

  test("the hourly full build goes on from the time the last one ended", async () => {
    const dir = mkdtempSync(join(tmpdir(), "s2p-fi-"));
    let t = 1_000_000;
    (await built(dir, () => t)).close();
    t += 61 * 60 * 1000;
    const again = createFileIndex(client, () => t, { file: fileIndexFile(dir) });
    const queries = sim.queries;
    await again.refresh(); // the delta first, though the build is due
    expect(sim.queries - queries).toBe(1);
    await again.refresh(); // then the build: a page a 1,000 scenes
    expect(sim.queries - queries).toBe(1 + Math.floor(sim.library.scenes.size / 1000) + 1);
    expect(again.size).toBe(sim.library.scenes.size);
    again.close();
  });

  test("a file of another format is dropped and built again, never read", async () => {
    const dir = mkdtempSync(join(tmpdir(), "s2p-fi-"));
    const file = fileIndexFile(dir);
    // What the releases before issue 26 left: the tables without index_meta.
    const old = new Database(file, { create: true });
    old.run("CREATE TABLE a_scenes (id TEXT PRIMARY KEY, title TEXT)");
    old.run("INSERT INTO a_scenes VALUES ('999999', 'stale')");
    old.close();
    const index = createFileIndex(client, () => 0, { file });
    expect(index.ready).toBe(false);
    expect(index.scene("999999")).toBeUndefined();
    await index.refresh();
    expect(index.size).toBe(sim.library.scenes.size);
    index.close();
  });

  test("a file the last run did not close (killed) is checked, and used when sound", async () => {
    const dir = mkdtempSync(join(tmpdir(), "s2p-fi-"));
    const file = fileIndexFile(dir);
    (await built(dir)).close();
    const db = new Database(file);
    db.run("UPDATE index_meta SET value = '0' WHERE key = 'clean'");
    db.close();
    const again = createFileIndex(client, () => 0, { file });
    expect(again.ready).toBe(true);
    expect(again.sceneIdByPath(sim.library.scenes.get("5")!.files[0]!.path)).toBe("5");
    again.close();
  });
});
