/** The Stash client against the simulator: coalescing, decoding, and its three error kinds. */
import { afterAll, describe, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { createStashClient } from "../../src/stash/client.ts";
import { StashError } from "../../src/stash/errors.ts";

const sim = new StashSim({ scenes: 300, seed: 2 }).start();
afterAll(() => sim.stop());
const client = (over: Partial<Parameters<typeof createStashClient>[0]> = {}) =>
  createStashClient({ url: sim.url, apiKey: "", timeoutMs: 2000, ...over });

const kindOf = async (p: Promise<unknown>) => {
  try {
    await p;
  } catch (err) {
    return err instanceof StashError ? err.kind : `not a StashError: ${err}`;
  }
  return "no error";
};

describe("Stash client", () => {
  test("concurrent lookups by id in the same moment become one findScenes(ids:) query", async () => {
    const c = client();
    const before = sim.queries;
    const ids = Array.from({ length: 40 }, (_, i) => String(i + 1));
    const scenes = await Promise.all([...ids, "1", "2", "99999"].map((id) => c.sceneById(id)));
    expect(sim.queries - before).toBe(1);
    expect(scenes.slice(0, 40).map((s) => s?.id)).toEqual(ids);
    expect(scenes[42]).toBeUndefined();
    expect(sim.operations.at(-1)).toBe("FindScenes");
  });

  test("lookups by path, by file name, by text, and paged enumeration", async () => {
    const c = client();
    const scene = sim.library.scenes.get("12")!;
    expect((await c.sceneByPath(scene.files[0]!.path))?.id).toBe("12");
    expect(await c.sceneByPath("/nope.mp4")).toBeUndefined();
    expect((await c.scenesByBasename(scene.files[0]!.basename)).map((s) => s.id)).toEqual(["12"]);
    expect((await c.searchScenes(scene.title!)).map((s) => s.id)).toContain("12");
    const page1 = await c.sceneFilesPage(1, 100);
    const page3 = await c.sceneFilesPage(3, 100);
    expect(page1.count).toBe(300);
    expect(page1.items[0]!.id).toBe("1");
    expect(page3.items.at(-1)!.id).toBe("300");
  });

  test("sends the API key; a wrong or missing one is 'unauthorised' and names the setting", async () => {
    sim.faults.apiKey = "right-key";
    try {
      expect((await client({ apiKey: "right-key" }).sceneById("3"))?.id).toBe("3");
      const err = await client({ apiKey: "wrong-key" })
        .version()
        .catch((e) => e);
      expect(err.kind).toBe("unauthorised");
      expect(err.message).toContain("STASH_API_KEY");
      expect(err.message).not.toContain("wrong-key");
    } finally {
      sim.faults.apiKey = null;
    }
  });

  test("5xx, timeouts and refused connections are 'unavailable'; GraphQL errors are 'query'", async () => {
    sim.faults.errorRate = 1;
    expect(await kindOf(client().version())).toBe("unavailable");
    sim.faults.errorRate = 0;
    sim.faults.latencyMs = 400;
    expect(await kindOf(client({ timeoutMs: 100 }).version())).toBe("unavailable");
    sim.faults.latencyMs = 0;
    sim.faults.graphqlErrors = true;
    expect(await kindOf(client().version())).toBe("query");
    sim.faults.graphqlErrors = false;
    expect(await kindOf(createStashClient({ url: "http://127.0.0.1:9", apiKey: "", timeoutMs: 500 }).version())).toBe(
      "unavailable",
    );
  });

  test("an answer in an unexpected shape is a clear 'query' error, not undefined deep inside", async () => {
    const fake = Bun.serve({
      port: 0,
      hostname: "127.0.0.1",
      fetch: () => Response.json({ data: { findScenes: { count: 1, scenes: [{ id: 5 }] } } }),
    });
    try {
      const err = await createStashClient({ url: `http://127.0.0.1:${fake.port}`, apiKey: "", timeoutMs: 1000 })
        .sceneByPath("/x")
        .catch((e) => e);
      expect(err).toBeInstanceOf(StashError);
      expect(err.kind).toBe("query");
      expect(err.message).toContain("unexpected shape");
      expect(err.message).toContain("/findScenes/scenes/0");
    } finally {
      fake.stop(true);
    }
  });
});
