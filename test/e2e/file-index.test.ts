/** The index of Stash's files: built by paging, kept fresh by deltas, rebuilt to forget deleted scenes. */
import { afterAll, describe, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { createStashClient } from "../../src/stash/client.ts";
import { createFileIndex } from "../../src/stash/file-index.ts";

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
});
