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

  test("lives in its SQLite file in the data folder, emptied at each start, not in the JS heap", async () => {
    const dir = mkdtempSync(join(tmpdir(), "s2p-fi-"));
    const file = fileIndexFile(dir);
    // Whatever an earlier run (or a crash) left there is thrown away, not read.
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
