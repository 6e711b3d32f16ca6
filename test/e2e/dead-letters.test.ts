/**
 * Dead letters have a life cycle, end to end through the real service and the simulators:
 * one whose scene is delivered later leaves the list; a person retries or discards one, some
 * or all through the API the Stash plugin's tasks call; the list is paged and names titles.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { adminAuth, adminGet, post, startWorld, waitFor, WEBHOOK_TOKEN, type World, scene } from "../helpers.ts";

const FAST = {
  SYNC_RETRY_BASE_SECONDS: "0.05",
  SYNC_RETRY_CAP_SECONDS: "0.4",
  SYNC_SWEEP_SECONDS: "1",
  SYNC_DRAIN_PER_SECOND: "2000",
};
const hook = { authorization: `Bearer ${WEBHOOK_TOKEN}` };
let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const itemOfScene = (world: World, sceneId: string) =>
  [...world.pms.items.values()].find((i) => i.guid.endsWith(`/movie/${sceneId}`))!;

/** Dead letters written straight into the service's database, as if pushes had given up on them. */
function bury(world: World, sceneIds: string[], diedAt = Date.now()) {
  const insert = world.app.store.db.query(
    "INSERT INTO dead_letters (ref, reason, attempts, first_queued_at, died_at, last_error) VALUES ('default:scene:' || ?, 'test', 7, ?, ?, 'the Plex item is gone')",
  );
  world.app.store.db.transaction(() => sceneIds.forEach((id, i) => insert.run(id, diedAt - 60_000, diedAt - i)))();
}

const list = async (world: World, query = "") =>
  (await (await adminGet(`${world.app.url}/api/dead-letters${query}`)).json()) as any;

describe("dead letters", () => {
  test("a dead letter whose scene is delivered later leaves the list", async () => {
    w = await startWorld({ env: FAST });
    await w.pms.scan("1");
    await w.app.plexIndex.refresh(await w.app.plex.sections());
    const item = itemOfScene(w, "12");
    w.pms.items.delete(item.ratingKey);
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["12"] }, hook);
    expect(await waitFor(() => w!.app.queue.deadLetterCount() === 1)).toBe(true);
    const before = await list(w);
    expect(before.total).toBe(1);
    expect(before.items[0]).toMatchObject({
      sceneId: "12",
      title: w.stash.library.scenes.get("12")!.title,
      attempts: 1,
    });
    expect(before.items[0].error).toContain("the Plex item is gone");
    // The item comes back in Plex and the scene changes again in Stash: that change is delivered.
    w.pms.items.set(item.ratingKey, item);
    w.stash.library.update("12", { title: "Back again" });
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["12"] }, hook);
    // The push finds the item again at its next look at Plex's library (at most one every 5 s), so
    // this can take a few retries on a busy machine.
    expect(
      await waitFor(
        async () => (await w!.pms.idle(), w!.pms.items.get(item.ratingKey)!.title === "Back again"),
        30_000,
      ),
    ).toBe(true);
    expect(await waitFor(() => w!.app.queue.deadLetterCount() === 0)).toBe(true);
    expect(await list(w)).toEqual({ total: 0, items: [] });
  }, 30_000);

  test("retry and discard one, some or all; the list is paged, newest first, with titles", async () => {
    w = await startWorld({ env: FAST, push: false });
    const ids = Array.from({ length: 120 }, (_, i) => String(i + 1));
    bury(w, ids);
    const first = await list(w, "?limit=50");
    expect(first.total).toBe(120);
    expect(first.items.map((d: any) => d.sceneId)).toEqual(ids.slice(0, 50));
    expect(first.items[0]).toEqual({
      sceneId: "1",
      title: w.stash.library.scenes.get("1")!.title,
      error: "the Plex item is gone",
      attempts: 7,
      deadAt: expect.any(Number),
    });
    expect((await list(w, "?offset=100&limit=50")).items.map((d: any) => d.sceneId)).toEqual(ids.slice(100));
    // A scene no longer in Stash keeps its place, without a title.
    bury(w, ["999999"], Date.now() + 1000);
    expect((await list(w, "?limit=1")).items[0]).toMatchObject({ sceneId: "999999", title: null });

    const retry = (body: unknown) => post(`${w!.app.url}/api/dead-letters/retry`, body, adminAuth);
    const discard = (body: unknown) => post(`${w!.app.url}/api/dead-letters/discard`, body, adminAuth);
    expect(await (await retry({ sceneIds: ["1"] })).json()).toEqual({ retried: 1 });
    expect(await (await retry({ sceneIds: ["2", "3", "3", "4444444"] })).json()).toEqual({ retried: 2 });
    expect(w.app.queue.job(scene("2"))).toMatchObject({ reason: "requeue" });
    expect(await (await discard({ sceneIds: ["4", "5"] })).json()).toEqual({ discarded: 2 });
    expect(w.app.queue.history(scene("4")).map((h) => h.event)).toEqual(["discarded"]);
    expect((await list(w)).total).toBe(121 - 5);
    // The old name still works.
    expect(await (await post(`${w.app.url}/api/dead-letters/requeue`, { sceneIds: ["6"] }, adminAuth)).json()).toEqual({
      requeued: 1,
    });
    expect(await (await discard({})).json()).toEqual({ discarded: 121 - 6 });
    expect(await list(w)).toEqual({ total: 0, items: [] });
    bury(w, ["7", "8"]);
    // Another Stash instance's dead letter with the same scene id is a different one: named by `instance`.
    w.app.store.db
      .query(
        "INSERT INTO dead_letters (ref, reason, attempts, first_queued_at, died_at, last_error) VALUES ('vault:scene:7', 'test', 1, 1, 2, 'gone')",
      )
      .run();
    expect((await list(w)).items.map((d: any) => [d.sceneId, d.instance])).toContainEqual(["7", "vault"]);
    expect(await (await retry({ sceneIds: ["7"], instance: "vault" })).json()).toEqual({ retried: 1 });
    expect(w.app.queue.deadLetter(scene("7"))).toBeDefined();
    const shown = (await (await adminGet(`${w.app.url}/api/scenes/7?instance=vault`)).json()) as any;
    // Its history starts with the retry (the worker may already have tried it: that comes after).
    expect(shown).toMatchObject({ sceneId: "7", instance: "vault" });
    expect(shown.history[0]).toMatchObject({ event: "queued", detail: "requeue" });
    // This service has no Stash "vault": its job dies again (naming that), and is discarded by instance.
    const vault7 = { instance: "vault", kind: "scene" as const, id: "7" };
    expect(await waitFor(() => w!.app.queue.deadLetter(vault7) !== undefined)).toBe(true);
    expect(await (await discard({ instance: "vault" })).json()).toEqual({ discarded: 1 });
    expect(await (await retry(undefined)).json()).toEqual({ retried: 2 });
  }, 30_000);

  test("/api/status names the newest 50 dead letters and counts all of them (10,000 would make it megabytes)", async () => {
    w = await startWorld({ env: FAST, push: false });
    const ids = Array.from({ length: 120 }, (_, i) => String(i + 1));
    bury(w, ids);
    const status = (await (await adminGet(`${w.app.url}/api/status`)).json()) as any;
    expect(status.deadLetterCount).toBe(120);
    expect(status.deadLetters).toHaveLength(50);
    expect(status.deadLetters.map((d: any) => d.scene_id)).toEqual(ids.slice(0, 50));
  });

  test("bad input gets a 4xx naming the problem; actions need the admin token, reads too", async () => {
    w = await startWorld({ push: false });
    const url = w.app.url!;
    for (const query of ["?limit=0", "?limit=501", "?offset=-1", "?limit=ten"]) {
      const res = await adminGet(`${url}/api/dead-letters${query}`);
      expect(res.status).toBe(400);
      expect(((await res.json()) as any).error.message).toMatch(/^(limit|offset)/);
    }
    const bad = await post(`${url}/api/dead-letters/discard`, { sceneIds: ["12; drop"] }, adminAuth);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toContain("sceneIds");
    const badInstance = await post(
      `${url}/api/dead-letters/retry`,
      { sceneIds: ["12"], instance: "Not An Id" },
      adminAuth,
    );
    expect(badInstance.status).toBe(400);
    expect(((await badInstance.json()) as any).error.message).toMatch(/^instance/);
    const badScene = await adminGet(`${url}/api/scenes/12?instance=Vault!`);
    expect(badScene.status).toBe(400);
    expect(((await badScene.json()) as any).error.message).toMatch(/^instance/);
    for (const path of ["retry", "discard"]) {
      expect((await post(`${url}/api/dead-letters/${path}`, {})).status).toBe(401);
      expect((await post(`${url}/api/dead-letters/${path}`, {}, hook)).status).toBe(401);
    }
    expect((await fetch(`${url}/api/dead-letters`)).status).toBe(401);
  }, 30_000);
});
