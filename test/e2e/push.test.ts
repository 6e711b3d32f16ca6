/**
 * The push side end to end: Stash simulator → real service (real SQLite) → PMS simulator,
 * which re-pulls from the real provider, so an item shows a new value only if it truly went
 * all the way through.
 */
import { afterEach, describe, expect, test } from "bun:test";
import {
  post,
  startWorld,
  waitFor,
  WEBHOOK_TOKEN,
  type World,
  adminGet,
  adminAuth,
  scene as sceneRef,
} from "../helpers.ts";
import { undocumentedCalls } from "../conformance/shared.ts";
import { pmsRequestHeaders } from "../../sim/plex/scan.ts";

const auth = { authorization: `Bearer ${WEBHOOK_TOKEN}` };
const FAST = {
  SYNC_RETRY_BASE_SECONDS: "0.05",
  SYNC_RETRY_CAP_SECONDS: "0.4",
  SYNC_SWEEP_SECONDS: "1",
  SYNC_DRAIN_PER_SECOND: "2000",
};
let w: World | undefined;
afterEach(async () => {
  await w?.close();
  w = undefined;
});

const itemOfScene = (world: World, sceneId: string) =>
  [...world.pms.items.values()].find((i) => i.guid.endsWith(`/movie/${sceneId}`))!;
const itemsOfScene = (world: World, sceneId: string) =>
  [...world.pms.items.values()].filter((i) => i.guid.endsWith(`/movie/${sceneId}`));
/** Removes an item from Plex and its file from Plex's disk: a scan will not bring it back. */
function deleteFromPlex(world: World, ratingKey: string) {
  const item = world.pms.items.get(ratingKey)!;
  world.pms.items.delete(ratingKey);
  world.pms.disk.set(
    item.sectionId,
    world.pms.disk.get(item.sectionId)!.filter((f) => !item.files.includes(f)),
  );
}
/** A world whose scene 13 has two files, each a Plex item (a scan done): its two items. */
async function twoFileScene(confirmSeconds: string) {
  const world = await startWorld({ env: { ...FAST, SYNC_CONFIRM_SECONDS: confirmSeconds } });
  w = world;
  await world.pms.scan("1");
  const items = itemsOfScene(world, "13");
  expect(items).toHaveLength(2);
  return { world, items };
}

describe("pushing Stash changes to Plex", () => {
  test("1,000 edits while Plex is down all arrive after it returns, one Plex call per scene", async () => {
    w = await startWorld({ seed: { scenes: 1000 }, env: { ...FAST, SYNC_POLL_SECONDS: "1" } });
    await w.pms.scan("1", { concurrency: 16 });
    await w.app.plexIndex.refresh(await w.app.plex.sections());
    const callsBefore = w.pms.calls.length;
    await w.pms.stop();
    const ids = [...w.stash.library.scenes.keys()];
    // Every scene edited; a third of them twice (coalescing), half announced by the webhook, the rest found by polling.
    ids.forEach((id, i) => w!.stash.library.update(id, { title: `First ${id}` }));
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ids.slice(0, 500) }, auth);
    await Bun.sleep(1200); // time-compressed outage: several sweeps, polls and breaker probes fail meanwhile
    ids.filter((_, i) => i % 3 === 0).forEach((id) => w!.stash.library.update(id, { title: `Final ${id}` }));
    // Long enough that Stash's second-precision stamps of these edits are safely past when Plex returns.
    await Bun.sleep(2500);
    expect(w.app.breaker.state).toBe("open");
    expect(w.app.queue.pending()).toBe(1000);
    const outageCalls = w.pms.calls.length;
    w.pms.start();
    const want = (id: string, i: number) => (i % 3 === 0 ? `Final ${id}` : `First ${id}`);
    const done = await waitFor(
      async () => {
        await w!.pms.idle();
        // Delivery is confirmed just after PMS has the answer: wait for the queue to empty too.
        return ids.every((id, i) => itemOfScene(w!, id).title === want(id, i)) && w!.app.queue.pending() === 0;
      },
      30_000,
      100,
    );
    expect(done).toBe(true);
    expect(w.app.queue.pending()).toBe(0);
    expect(w.app.queue.deadLetters()).toEqual([]);
    const perScene = ids.map((id) => w!.pms.pushCallsFor(itemOfScene(w!, id).ratingKey));
    expect(Math.max(...perScene)).toBe(1);
    expect(outageCalls).toBe(callsBefore); // nothing reached the stopped server
    const [outage] = w.app.breaker.outages();
    expect(outage!.ended_at).toBeGreaterThan(outage!.started_at);
    expect(undocumentedCalls(w.pms.calls)).toEqual([]);
  }, 60_000);

  test("an item deleted in Plex becomes a dead letter with a readable reason, no retry storm", async () => {
    w = await startWorld({ env: FAST });
    await w.pms.scan("1");
    await w.app.plexIndex.refresh(await w.app.plex.sections());
    const item = itemOfScene(w, "12");
    w.pms.items.delete(item.ratingKey);
    w.stash.library.update("12", { title: "Gone" });
    expect(
      (await post(`${w.app.url}/hooks/stash`, { hookContext: { type: "Scene.Update.Post", id: 12 } }, auth)).status,
    ).toBe(200);
    expect(await waitFor(() => w!.app.queue.deadLetters().length === 1)).toBe(true);
    const [dead] = w.app.queue.deadLetters();
    expect(dead!.last_error).toContain("the Plex item is gone");
    await Bun.sleep(1500);
    expect(w.pms.callsFor(item.ratingKey).length).toBe(1);
    const status = (await (await adminGet(`${w.app.url}/api/status`)).json()) as any;
    expect(status.deadLetters[0].scene_id).toBe("12");
    const scene = (await (await adminGet(`${w.app.url}/api/scenes/12`)).json()) as any;
    expect(scene.deadLetter.last_error).toContain("gone");
    expect(scene.history.map((h: any) => h.event)).toEqual(["queued", "dead"]);
    expect((await adminGet(`${w.app.url}/api/scenes/x1`)).status).toBe(400);
    // Requeued after a rescan: it lands.
    await w.pms.scan("1");
    const requeue = await post(`${w.app.url}/api/dead-letters/requeue`, { sceneIds: ["12"] }, adminAuth);
    expect(((await requeue.json()) as any).requeued).toBe(1);
    expect(await waitFor(async () => (await w!.pms.idle(), itemOfScene(w!, "12")?.title === "Gone"))).toBe(true);
  });

  test("a scene of another Stash instance is never pushed as the default's scene with the same id", async () => {
    w = await startWorld({ env: FAST });
    await w.pms.scan("1");
    await w.app.plexIndex.refresh(await w.app.plex.sections());
    const item = itemOfScene(w, "12");
    // An instance this service does not have is refused, naming it: nothing queued, nothing pushed.
    const res = await post(`${w.app.url}/hooks/stash`, { sceneIds: ["12"], instance: "vault" }, auth);
    expect(res.status).toBe(400);
    expect(((await res.json()) as any).error.message).toContain('"vault"');
    expect(w.app.queue.pending()).toBe(0);
    await Bun.sleep(200);
    expect(w.pms.pushCallsFor(item.ratingKey)).toBe(0);
    expect(w.app.queue.delivery(sceneRef("12"))).toBeUndefined();
    // A bad instance id is refused, naming the field.
    const bad = await post(`${w.app.url}/hooks/stash`, { sceneIds: ["12"], instance: "Not An Id" }, auth);
    expect(bad.status).toBe(400);
    expect(await bad.text()).toContain("instance");
  }, 30_000);

  test("an item deleted in Plex, its change found by polling: one dead letter, no job, no further Plex calls over polls", async () => {
    w = await startWorld({ env: { ...FAST, SYNC_POLL_SECONDS: "1", SYNC_RETRY_CAP_SECONDS: "2" } });
    await w.pms.scan("1");
    await w.app.plexIndex.refresh(await w.app.plex.sections());
    deleteFromPlex(w, itemOfScene(w, "12").ratingKey);
    w.stash.library.update("12", { title: "Gone" });
    expect(await waitFor(() => w!.app.queue.deadLetters().length === 1)).toBe(true);
    const calls = w.pms.calls.length;
    // A minute's worth of polls (one a second), each overlapping the last: run back to back, not waited for.
    for (let i = 0; i < 60; i++) await w.app.poller.poll();
    await w.app.worker.sweep();
    expect(w.app.queue.deadLetters().map((d) => d.ref)).toEqual(["default:scene:12"]);
    expect(w.app.queue.job(sceneRef("12"))).toBeUndefined();
    expect(w.pms.calls.slice(calls).map((c) => `${c.method} ${c.path}`)).toEqual([]);
    expect(w.app.poller.totals.polls).toBeGreaterThanOrEqual(50);
  }, 90_000);

  test("a scene whose file Plex lacks: its folder is scanned at most once per retry window, not at every attempt", async () => {
    w = await startWorld({ env: { ...FAST, SYNC_RETRY_CAP_SECONDS: "2" } });
    await w.pms.scan("1");
    deleteFromPlex(w, itemOfScene(w, "20").ratingKey); // as if never scanned (and not on Plex's disk yet)
    await w.app.plexIndex.refresh(await w.app.plex.sections());
    w.stash.library.update("20", { title: "Never scanned" });
    const t0 = Date.now();
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["20"] }, auth);
    // Six attempts (however long a busy machine makes them), then: at most one scan per window.
    const attempts = () => w!.app.queue.history(sceneRef("20")).filter((h) => h.event === "retry").length;
    expect(await waitFor(() => attempts() >= 6, 20_000)).toBe(true);
    const seconds = (Date.now() - t0) / 1000;
    const scans = w.pms.calls.filter((c) => c.method === "POST" && c.path === "/library/sections/1/refresh").length;
    expect(scans).toBeGreaterThanOrEqual(1);
    expect(scans).toBeLessThanOrEqual(Math.ceil(seconds / 2) + 1);
  }, 30_000);

  test("Stash down for a while: the poller backs off, the watermark holds, no change is skipped", async () => {
    w = await startWorld({ env: { ...FAST, SYNC_POLL_SECONDS: "1" } });
    await w.pms.scan("1");
    const before = w.app.poller.watermark;
    for (const id of ["3", "4", "5"]) w.stash.library.update(id, { title: `Changed ${id}` });
    await w.stash.stop();
    await Bun.sleep(2500);
    expect(w.app.poller.failures).toBeGreaterThan(0);
    expect(w.app.poller.watermark).toBe(before);
    w.stash.start();
    const arrived = await waitFor(
      async () => {
        await w!.pms.idle();
        return ["3", "4", "5"].every((id) => itemOfScene(w!, id).title === `Changed ${id}`);
      },
      20_000,
      100,
    );
    expect(arrived).toBe(true);
    expect(w.app.poller.watermark! > before!).toBe(true);
  }, 30_000); // its waits alone are 2.5 s and up to 20 s: the 5 s default failed it on a busy machine

  test("a scene whose file Plex has not scanned yet is retried, and Plex is asked to scan its folder", async () => {
    w = await startWorld({ env: FAST });
    await w.pms.scan("1");
    const scene = w.stash.library.scenes.get("20")!;
    const item = itemOfScene(w, "20");
    w.pms.items.delete(item.ratingKey); // as if never scanned
    w.stash.library.update("20", { title: "Brand new" });
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["20"] }, auth);
    const landed = await waitFor(
      async () => {
        await w!.pms.idle();
        return itemOfScene(w!, "20")?.title === "Brand new";
      },
      15_000,
      100,
    );
    expect(landed).toBe(true);
    expect(w.pms.calls.some((c) => c.method === "POST" && c.path === "/library/sections/1/refresh")).toBe(true);
    expect(
      w.app.queue.history(sceneRef("20")).some((h) => h.event === "retry" && h.detail?.includes("not in Plex yet")),
    ).toBe(true);
    expect(scene.files[0]).toBeDefined();
  });
});

describe("delivery is confirmed by PMS fetching the metadata", () => {
  test("a refresh PMS accepts but never fetches is pushed again until it is fetched", async () => {
    w = await startWorld({ env: { ...FAST, SYNC_CONFIRM_SECONDS: "0.3" } });
    await w.pms.scan("1");
    w.pms.pullsEnabled = false; // e.g. PMS restarted right after accepting the refresh
    w.stash.library.update("40", { title: "Needs a fetch" });
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["40"] }, auth);
    const item = itemOfScene(w, "40");
    expect(await waitFor(() => w!.pms.pushCallsFor(item.ratingKey) >= 2, 10_000)).toBe(true);
    expect(w.app.queue.pending()).toBe(1);
    expect(
      w.app.queue.history(sceneRef("40")).some((h) => h.event === "retry" && h.detail!.includes("did not fetch")),
    ).toBe(true);
    w.pms.pullsEnabled = true;
    expect(
      await waitFor(
        async () => (await w!.pms.idle(), item.title === "Needs a fetch" && w!.app.queue.pending() === 0),
        10_000,
      ),
    ).toBe(true);
    expect(w.app.queue.history(sceneRef("40")).at(-1)!.event).toBe("delivered");
  });
});

describe("only the PMS the push went to confirms it", () => {
  /** A push of scene `id`'s new title, refreshed in Plex and waiting for PMS's fetch (PMS holds it back). */
  async function waitingPush(world: World, id: string, title: string) {
    await world.pms.scan("1");
    world.pms.pullsEnabled = false; // PMS accepts the refresh; its fetch comes later
    world.stash.library.update(id, { title });
    await post(`${world.app.url}/hooks/stash`, { sceneIds: [id] }, auth);
    expect(await waitFor(() => world.app.queue.confirming() === 1)).toBe(true);
  }
  /** Each foreign GET is answered, and the push still waits. */
  async function foreignGets(world: World, id: string, foreign: Record<string, string>[]) {
    for (const headers of foreign)
      expect((await fetch(`${world.app.url}/library/metadata/${id}`, { headers })).status).toBe(200);
    await Bun.sleep(300);
    expect(world.app.queue.confirming()).toBe(1);
    expect(world.app.queue.history(sceneRef(id)).map((h) => h.event)).not.toContain("delivered");
  }
  /** PMS fetches it (the simulator sends what PMS sends): the push is delivered, no retry needed. */
  async function plexFetches(world: World, id: string, title: string) {
    world.pms.pullsEnabled = true;
    const item = itemOfScene(world, id);
    await fetch(`${world.pms.url}/library/metadata/${item.ratingKey}/refresh`, {
      method: "PUT",
      headers: { "x-plex-token": world.pms.token },
    });
    expect(
      await waitFor(
        async () => (await world.pms.idle(), item.title === title && world.app.queue.pending() === 0),
        10_000,
      ),
    ).toBe(true);
    expect(world.app.queue.history(sceneRef(id)).at(-1)!.event).toBe("delivered");
    expect(world.pms.pushCallsFor(item.ratingKey)).toBe(2); // our refresh and the one above
  }

  test("a foreign GET of the metadata (curl, a monitor, a browser, another PMS) leaves the push waiting; PMS's own fetch delivers it", async () => {
    w = await startWorld({ env: { ...FAST, SYNC_CONFIRM_SECONDS: "60" } });
    await waitingPush(w, "40", "Seen by Plex only");
    await foreignGets(w, "40", [
      {}, // curl
      { accept: "application/json", "user-agent": "Uptime-Kuma/1.23.16" },
      { accept: "text/html,application/xhtml+xml", "user-agent": "Mozilla/5.0 (X11; Linux x86_64) Firefox/128.0" },
      pmsRequestHeaders({ machineIdentifier: "0123456789abcdef0123456789abcdef01234567", version: "1.43.0" }), // another PMS
      { "x-plex-client-identifier": "" },
    ]);
    await plexFetches(w, "40", "Seen by Plex only");
  });

  test("a PMS that sends providers no X-Plex-Client-Identifier (its User-Agent only): its fetch delivers; curl and monitors still do not", async () => {
    w = await startWorld({ env: { ...FAST, SYNC_CONFIRM_SECONDS: "60" } });
    w.pms.sendsClientIdentifier = false;
    await waitingPush(w, "41", "Fetched by a quiet PMS");
    await foreignGets(w, "41", [{}, { "user-agent": "curl/8.5.0" }, { "user-agent": "Uptime-Kuma/1.23.16" }]);
    await plexFetches(w, "41", "Fetched by a quiet PMS");
  });
});

describe("a scene with several files is delivered to each of its Plex items", () => {
  test("the scene edited again after its first item was fetched, with no one announcing it: every item ends up with the last edit (found by the chaos soak)", async () => {
    // Stash stamps to the second: the second edit is made a few seconds later on Stash's clock.
    let later = 0;
    w = await startWorld({
      env: { ...FAST, SYNC_CONFIRM_SECONDS: "0.5" },
      seed: { clock: { now: () => Date.now() + later } },
    });
    await w.pms.scan("1");
    const items = itemsOfScene(w, "13");
    expect(items).toHaveLength(2);
    const world = w;
    const pulled: string[] = [];
    let edited = false;
    // The second item's first fetch fails (Stash answers 503 for a moment), and meanwhile the scene is
    // edited in Stash with nobody announcing it: when that item is pushed again, the first item holds
    // an older version than the scene's.
    w.pms.pullHooks.before = (item) => {
      pulled.push(item.ratingKey);
      if (new Set(pulled).size === 2 && !edited) world.stash.faults.errorRate = 1;
    };
    w.pms.pullHooks.after = () => {
      if (world.stash.faults.errorRate === 0 || edited) return;
      world.stash.faults.errorRate = 0;
      edited = true;
      later = 5000;
      world.stash.library.update("13", { title: "Edited between the two items" });
    };
    w.stash.library.update("13", { title: "First edit" });
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["13"] }, auth);
    const done = await waitFor(
      async () => {
        await world.pms.idle();
        return world.app.queue.pending() === 0 && world.app.queue.history(sceneRef("13")).at(-1)?.event === "delivered";
      },
      15_000,
      50,
    );
    expect(done).toBe(true);
    await w.pms.idle();
    expect(edited).toBe(true);
    expect(items.map((i) => i.title)).toEqual(["Edited between the two items", "Edited between the two items"]);
  }, 30_000);

  test("the second item's fetch fails (Stash answers 503 for a moment): only it is pushed again, and it ends up new", async () => {
    const { world, items } = await twoFileScene("0.5");
    const pulled: string[] = [];
    let failedOnce = false;
    world.pms.pullHooks.before = (item) => {
      pulled.push(item.ratingKey);
      if (new Set(pulled).size === 2 && !failedOnce) {
        failedOnce = true;
        world.stash.faults.errorRate = 1;
      }
    };
    world.pms.pullHooks.after = () => void (world.stash.faults.errorRate = 0);
    world.stash.library.update("13", { title: "Two files" });
    await post(`${world.app.url}/hooks/stash`, { sceneIds: ["13"] }, auth);
    const landed = await waitFor(
      async () => {
        await world.pms.idle();
        return items.every((i) => i.title === "Two files") && world.app.queue.pending() === 0;
      },
      15_000,
      50,
    );
    expect(landed).toBe(true);
    expect(failedOnce).toBe(true);
    const [first, second] = [...new Set(pulled)];
    expect(world.pms.pushCallsFor(first!)).toBe(1);
    expect(world.pms.pushCallsFor(second!)).toBe(2);
    const events = world.app.queue.history(sceneRef("13")).map((h) => `${h.event} ${h.detail}`);
    // Both items are fetched from the scene's one URL, so a fetch cannot say whose it was: each is
    // confirmed by reading it back after PMS's fetch.
    const readBack = (key: string) =>
      `read back plex item ${key} shows what we serve (confirmed by reading the item back: no fetch by PMS that could only be its was seen)`;
    expect(events.filter((e) => e.startsWith("fetched") || e.startsWith("read back"))).toEqual([
      readBack(first!),
      readBack(second!),
    ]);
    expect(
      events.some((e) => e.startsWith("retry") && e.includes(`item ${second}`) && e.includes("did not fetch")),
    ).toBe(true);
    expect(events.at(-1)).toMatch(new RegExp(`^delivered plex item ${first}, ${second} \\(confirmed by `));
    const scene = (await (await adminGet(`${world.app.url}/api/scenes/13`)).json()) as any;
    expect(scene.lastDelivery.rating_key).toBe(`${first},${second}`);
  }, 30_000);
  test("a two-file scene whose second item's title the user locked: delivered (read back without the locked field), the lock kept", async () => {
    const { world, items } = await twoFileScene("2");
    items[1]!.locked.add("title");
    const mine = items[1]!.title;
    world.stash.library.update("13", { title: "Both files", details: "New details" });
    await post(`${world.app.url}/hooks/stash`, { sceneIds: ["13"] }, auth);
    const done = await waitFor(
      async () => {
        await world.pms.idle();
        return world.app.queue.history(sceneRef("13")).at(-1)?.event === "delivered";
      },
      15_000,
      50,
    );
    expect(done).toBe(true);
    expect(items.map((i) => i.title)).toEqual(["Both files", mine]);
    expect(items.map((i) => i.fields.summary)).toEqual(["New details", "New details"]);
    expect(world.app.queue.deadLetters()).toEqual([]);
    expect(world.pms.pushCallsFor(items[1]!.ratingKey)).toBe(1);
  }, 30_000);

  test("a late fetch of the first item while the second is awaited does not confirm the second: it is read back, and pushed again", async () => {
    // PMS fetches both items from the scene's one URL. The second item's own fetch fails, and then
    // PMS fetches the first item once more (a refresh asked twice): that fetch proves nothing
    // about the second item, which still shows the old title.
    const { world, items } = await twoFileScene("0.5");
    const pulled: string[] = [];
    let lateFetch: Promise<Response> | undefined;
    world.pms.pullHooks.before = (item) => {
      pulled.push(item.ratingKey);
      if (pulled.length === 2) world.stash.faults.errorRate = 1;
    };
    world.pms.pullHooks.after = () => {
      if (pulled.length !== 2) return;
      world.stash.faults.errorRate = 0;
      lateFetch = fetch(`${world.pms.url}/library/metadata/${pulled[0]}/refresh`, {
        method: "PUT",
        headers: { "X-Plex-Token": world.pms.token },
      });
    };
    world.stash.library.update("13", { title: "Two files" });
    await post(`${world.app.url}/hooks/stash`, { sceneIds: ["13"] }, auth);
    const landed = await waitFor(
      async () => {
        await world.pms.idle();
        return world.app.queue.pending() === 0 && lateFetch !== undefined;
      },
      15_000,
      50,
    );
    expect(landed).toBe(true);
    expect((await lateFetch!).status).toBe(200);
    await world.pms.idle();
    expect(pulled.slice(0, 3)).toEqual([items[0]!.ratingKey, items[1]!.ratingKey, items[0]!.ratingKey]);
    expect(items.map((i) => i.title)).toEqual(["Two files", "Two files"]);
    expect(world.pms.pushCallsFor(items[1]!.ratingKey)).toBe(2);
  }, 30_000);
});

describe("the webhook refuses bad input and queues nothing", () => {
  test("wrong or missing token, malformed bodies, unknown scene ids", async () => {
    w = await startWorld({ env: FAST });
    const url = `${w.app.url}/hooks/stash`;
    expect((await post(url, { sceneIds: [1] })).status).toBe(401);
    expect((await post(url, { sceneIds: [1] }, { authorization: "Bearer wrong" })).status).toBe(401);
    expect((await post(url, "{not json", auth)).status).toBe(400);
    expect((await post(url, { sceneIds: [] }, auth)).status).toBe(400);
    expect((await post(url, { sceneIds: ["1; drop"] }, auth)).status).toBe(400);
    expect((await post(url, { hookContext: { type: "Scene.Update.Post" } }, auth)).status).toBe(400);
    const unknown = await post(url, { sceneIds: [1, 987654] }, auth);
    expect(unknown.status).toBe(422);
    expect(((await unknown.json()) as any).error.message).toContain("987654");
    expect(w.app.queue.pending()).toBe(0);
    const destroyed = await post(url, { hookContext: { type: "Scene.Destroy.Post", id: 5 } }, auth);
    expect(destroyed.status).toBe(200);
    expect(((await destroyed.json()) as any).queued).toBe(0);
    expect(w.app.queue.pending()).toBe(0);
    const body = JSON.stringify(await (await adminGet(`${w.app.url}/api/status`)).json());
    expect(body).not.toContain(WEBHOOK_TOKEN);
    expect(body).not.toContain(w.pms.token);
  });
});

describe("edit strategy for sections on other agents", () => {
  test("writes and locks the fields, uploads artwork, and leaves a field the user changed in Plex alone", async () => {
    w = await startWorld({ env: { ...FAST, PLEX_SECTIONS: JSON.stringify([{ id: "1", strategy: "edit" }]) } });
    await w.pms.scan("1");
    const item = itemOfScene(w, "30");
    w.stash.library.update("30", { title: "Edited Title", details: "New summary" });
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["30"] }, auth);
    const shots = w.stash.library.scenes.get("30")!.hasScreenshot ? 2 : 0;
    const it = w.pms.items.get(item.ratingKey)!;
    expect(
      await waitFor(() => it.fields.summary === "New summary" && it.uploads.posters + it.uploads.arts === shots),
    ).toBe(true);
    expect(it.title).toBe("Edited Title");
    expect(it.locked.has("title")).toBe(true);
    expect(it.locked.has("summary")).toBe(true);
    // The user retitles the item in Plex; the next Stash change must not undo that.
    it.title = "My own title";
    it.fields.title = "My own title";
    w.stash.library.update("30", { title: "Stash title again", details: "Third summary" });
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["30"] }, auth);
    expect(await waitFor(() => w!.pms.items.get(item.ratingKey)!.fields.summary === "Third summary")).toBe(true);
    expect(w.pms.items.get(item.ratingKey)!.title).toBe("My own title");
    expect(undocumentedCalls(w.pms.calls)).toEqual([]);
  });

  test("PROVIDER_RATING_AS=user: the Stash rating becomes the owner's star rating on push, not the item's critic rating", async () => {
    w = await startWorld({ env: { ...FAST, PROVIDER_RATING_AS: "user" } });
    await w.pms.scan("1");
    await w.app.plexIndex.refresh(await w.app.plex.sections());
    const item = itemOfScene(w, "21");
    expect(item.fields.Rating).toBeUndefined(); // the provider serves no rating field in this mode
    w.stash.library.update("21", { rating100: 80 });
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["21"] }, auth);
    expect(await waitFor(() => w!.pms.items.get(item.ratingKey)!.userRating === 8)).toBe(true);
    w.stash.library.update("21", { rating100: 35 });
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["21"] }, auth);
    expect(await waitFor(() => w!.pms.items.get(item.ratingKey)!.userRating === 3.5)).toBe(true);
    expect(w.pms.items.get(item.ratingKey)!.fields.Rating).toBeUndefined();
    expect(undocumentedCalls(w.pms.calls)).toEqual([]);
  });

  test("a scene wiped empty in Stash is not pushed over what Plex shows (quality gate), and its history says why", async () => {
    w = await startWorld({ env: FAST });
    await w.pms.scan("1");
    await w.app.plexIndex.refresh(await w.app.plex.sections());
    const item = itemOfScene(w, "26");
    const shown = { ...item.fields };
    Object.assign(w.stash.library.scenes.get("26")!, {
      title: null,
      date: null,
      details: null,
      studio: null,
      performers: [],
      tags: [],
    });
    w.stash.library.update("26", {});
    const callsBefore = w.pms.pushCallsFor(item.ratingKey);
    await post(`${w.app.url}/hooks/stash`, { sceneIds: ["26"] }, auth);
    expect(await waitFor(() => w!.app.queue.history(sceneRef("26")).some((h) => h.event === "delivered"))).toBe(true);
    expect(w.app.queue.history(sceneRef("26")).at(-1)!.detail).toContain("not pushed: the Stash scene has no metadata");
    expect(w.pms.pushCallsFor(item.ratingKey)).toBe(callsBefore);
    expect(w.pms.items.get(item.ratingKey)!.fields).toEqual(shown);
  });
});
