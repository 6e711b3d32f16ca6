/**
 * Write-back (issue 21): what Plex tells reaches Stash once. First the applier alone, over real
 * HTTP against the Stash simulator (which keeps play history as Stash does); then the real
 * service with both simulators.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { createStashClient } from "../../src/stash/client.ts";
import { openStore } from "../../src/store/db.ts";
import { createEditState } from "../../src/sync/edit-state.ts";
import { createApplier } from "../../src/writeback/apply.ts";
import type { PlexEvent } from "../../src/writeback/types.ts";
import { DEFAULT_INSTANCE_ID, sceneRef } from "../../src/domain/ref.ts";
import {
  ADMIN_TOKEN,
  adminAuth,
  adminGet,
  healthy,
  IDENTIFIER,
  spawnMain,
  startWorld,
  tempDir,
  testEnv,
  waitFor,
} from "../helpers.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { freePort } from "../../sim/sim-server.ts";
import { plexFilesFor } from "../../src/demo.ts";
import { loadConfig } from "../../src/config/load.ts";
import { formatCheckLine, runChecks } from "../../src/cli/check.ts";
import { createApp } from "../../src/app.ts";
import { createLogger, silentLogger } from "../../src/log.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const AT = Date.UTC(2026, 11, 1, 20, 15, 30, 400);

function applierWorld(users: string[] = []) {
  const stash = new StashSim({ scenes: 20, seed: 5 }).start();
  const store = openStore(tempDir());
  cleanups.push(
    () => stash.stop(),
    () => store.close(),
  );
  const client = createStashClient({ url: stash.url, apiKey: "", timeoutMs: 1000 });
  const lines: string[] = [];
  const log = createLogger({ level: "info", format: "json", write: (l) => lines.push(l), secrets: ["plex-secret"] });
  const ratings = createEditState(store);
  const applier = createApplier({
    stashOf: (i) => (i === DEFAULT_INSTANCE_ID ? client : undefined),
    ratings,
    users,
    log,
  });
  return { stash, applier, ratings, lines, scene: (id: string) => stash.library.scenes.get(id)! };
}

const base = (sceneId: string, extra: Partial<PlexEvent> = {}) => ({
  key: `k-${sceneId}-${Math.random()}`,
  source: "webhook" as const,
  ref: sceneRef(DEFAULT_INSTANCE_ID, sceneId),
  ratingKey: `rk${sceneId}`,
  account: { id: "1", name: "owner" },
  at: AT,
  ...extra,
});
const play = (sceneId: string, at = AT): PlexEvent => ({ ...base(sceneId), kind: "play", at });
const stop = (sceneId: string, offsetMs: number, at = AT): PlexEvent => ({
  ...base(sceneId),
  kind: "progress",
  viewOffsetMs: offsetMs,
  durationMs: 1_800_000,
  at,
});
const rate = (sceneId: string, rating: number | null, at = AT): PlexEvent => ({
  ...base(sceneId),
  kind: "rate",
  rating,
  at,
});

describe("the applier against the Stash simulator", () => {
  test("a play is added once with Plex's time; the same play applied 10 more times (a replay, a retry after kill -9) adds none", async () => {
    const w = applierWorld();
    const event = play("3");
    expect(await w.applier.applyEvent(event)).toMatchObject({ status: "done", wrote: true });
    for (let i = 0; i < 10; i++)
      expect(await w.applier.applyEvent({ ...event, key: `again-${i}` })).toMatchObject({
        status: "done",
        wrote: false,
      });
    // A second source dates the same viewing a second later: still the same play.
    expect(await w.applier.applyEvent(play("3", AT + 1000))).toMatchObject({ wrote: false });
    expect(w.scene("3").play_history).toEqual([Math.floor(AT / 1000) * 1000]);
    expect(w.stash.library.writeCount("sceneAddPlay", "3")).toBe(1);
    // Neither a play nor activity moves updated_at (no push comes back of it).
    expect(w.stash.library.edits.length).toBe(0);
    // Another viewing later is another play.
    expect(await w.applier.applyEvent(play("3", AT + 3_600_000))).toMatchObject({ wrote: true });
    expect(w.scene("3").play_history).toHaveLength(2);
  });

  test("stopping part-way sets the resume point (±5 s); finishing clears it; an older stop does not bring it back", async () => {
    const w = applierWorld();
    expect(await w.applier.applyEvent(stop("4", 754_400))).toMatchObject({ status: "done", wrote: true });
    expect(Math.abs(w.scene("4").resume_time! - 754.4)).toBeLessThanOrEqual(5);
    // The same stop again (±5 s) is not written again.
    expect(await w.applier.applyEvent(stop("4", 756_000))).toMatchObject({ status: "done", wrote: false });
    expect(w.stash.library.writeCount("sceneSaveActivity", "4")).toBe(1);
    await w.applier.applyEvent(play("4", AT + 600_000));
    expect(w.scene("4").resume_time).toBe(0);
    expect(await w.applier.applyEvent(stop("4", 300_000, AT + 60_000))).toMatchObject({
      status: "ignored",
      reason: "stale",
    });
    expect(w.scene("4").resume_time).toBe(0);
    expect(w.stash.library.edits.length).toBe(0);
  });

  test("a rating: 4 stars is 80 (one sceneUpdate, Stash's hook time moves); an agreeing one is not written; 73 stays 73", async () => {
    const w = applierWorld();
    w.stash.library.scenes.get("5")!.rating100 = 73;
    expect(await w.applier.applyEvent(rate("5", 7))).toMatchObject({ status: "done", wrote: false });
    expect(await w.applier.applyEvent(rate("5", 7.5))).toMatchObject({ status: "done", wrote: false });
    expect(w.scene("5").rating100).toBe(73);
    expect(await w.applier.applyEvent(rate("5", 8))).toMatchObject({ status: "done", wrote: true });
    expect(w.scene("5").rating100).toBe(80);
    expect(w.stash.library.writeCount("sceneUpdate", "5")).toBe(1);
    expect(w.stash.library.edits.map((e) => e.id)).toEqual(["5"]);
    // Cleared in Plex: Stash's 80 was Plex's 8, so it is cleared too.
    expect(await w.applier.applyEvent(rate("5", null, AT + 1000))).toMatchObject({ status: "done", wrote: true });
    expect(w.scene("5").rating100).toBeNull();
  });

  test("cleared in Plex while Stash holds a rating Plex never showed: Stash's is kept", async () => {
    const w = applierWorld();
    w.stash.library.scenes.get("7")!.rating100 = 40;
    expect(await w.applier.applyEvent(rate("7", null))).toMatchObject({ status: "ignored", reason: "kept" });
    expect(w.scene("7").rating100).toBe(40);
    expect(w.stash.library.writeCount("sceneUpdate")).toBe(0);
  });

  test("the echo of our own rating push is not taken as a user's rating", async () => {
    const w = applierWorld();
    w.stash.library.scenes.get("8")!.rating100 = 90;
    // Our push set 6 in Plex (Stash then said 60), and Stash has moved on to 90 since.
    w.ratings.rememberStarRating("rk8", { value: 6, by: "push", at: AT - 5000 });
    expect(await w.applier.applyEvent(rate("8", 6))).toMatchObject({ status: "ignored", reason: "echo" });
    expect(w.scene("8").rating100).toBe(90);
    expect(w.stash.library.writeCount("sceneUpdate")).toBe(0);
  });

  test("another Plex user changes nothing, and the log says so in one line naming the account", async () => {
    const w = applierWorld();
    const guest = { ...play("9"), account: { id: "7", name: "guest" } };
    expect(await w.applier.applyEvent(guest)).toMatchObject({ status: "ignored", reason: "user" });
    expect(w.stash.library.writes).toHaveLength(0);
    const said = w.lines.filter((l) => l.includes("not allowed"));
    expect(said).toHaveLength(1);
    expect(JSON.parse(said[0]!)).toMatchObject({ account: "guest", accountId: "7", kind: "play" });
    // On the allow-list (by name) the same event is written.
    const w2 = applierWorld(["Guest"]);
    expect(await w2.applier.applyEvent(guest)).toMatchObject({ status: "done", wrote: true });
  });

  test("Stash down is a transient failure; a scene Stash does not have is a permanent one", async () => {
    const w = applierWorld();
    expect(await w.applier.applyEvent(play("999"))).toMatchObject({ status: "permanent" });
    await w.stash.stop();
    expect(await w.applier.applyEvent(play("3"))).toMatchObject({ status: "transient", stashDown: true });
  });
});

// ---- the real service with both simulators ----

/** Env of a service with write-back on: the Plex webhook, notifications as asked, fast retries. */
const wbEnv = (extra: Record<string, string> = {}) => ({
  WRITEBACK_ENABLED: "true",
  WRITEBACK_WEBHOOK_TOKEN: PLEX_HOOK_TOKEN,
  WRITEBACK_NOTIFICATIONS: "false",
  SYNC_RETRY_BASE_SECONDS: "0.05",
  SYNC_RETRY_CAP_SECONDS: "0.5",
  ...extra,
});
const PLEX_HOOK_TOKEN = "plex-hook-token-789";

/** A world with write-back on, its library scanned into Plex; `item(n)` is the n-th scene's Plex item. */
async function wbWorld(env: Record<string, string> = {}) {
  const w = await startWorld({ seed: { scenes: 60 }, env: wbEnv(env) });
  cleanups.push(() => w.close());
  await w.pms.scan("1", { concurrency: 8 });
  const ours = [...w.pms.items.values()].filter((i) => i.guid.startsWith(`${IDENTIFIER}://movie/`));
  const item = (sceneId: string) => ours.find((i) => i.guid === `${IDENTIFIER}://movie/${sceneId}`)!;
  const hookUrl = () => `${w.app.url}/hooks/plex?token=${PLEX_HOOK_TOKEN}`;
  const plays = (sceneId: string) => w.stash.library.scenes.get(sceneId)!.play_history ?? [];
  return { ...w, item, hookUrl, plays };
}

describe("write-back through the real service", () => {
  test("a scene watched to the end (Plex Pass webhook) is one play in Stash within a minute; every webhook delivered 10 times adds none", async () => {
    const w = await wbWorld();
    w.pms.watch.webhooks = [w.hookUrl()];
    w.pms.watch.view(w.item("12").ratingKey);
    expect(await waitFor(() => w.plays("12").length > 0, 60_000)).toBe(true);
    // Plex delivers each webhook ten times (a replay): still exactly one play.
    w.pms.watch.duplicates = 10;
    w.pms.watch.view(w.item("14").ratingKey);
    await w.pms.watch.idle();
    expect(await waitFor(() => w.plays("14").length > 0, 60_000)).toBe(true);
    await waitFor(() => w.app.writeback.events.counts().pending === 0, 10_000);
    await w.app.writeback.worker.idle();
    expect(w.plays("12")).toHaveLength(1);
    expect(w.plays("14")).toHaveLength(1);
    expect(w.stash.library.writeCount("sceneAddPlay")).toBe(2);
    expect(w.pms.watch.deliveries.filter((d) => d.event === "media.scrobble" && d.status === 200)).toHaveLength(11);
    // The play's time is Plex's (the item's lastViewedAt, to the second).
    const viewed = w.pms.watch.history.find((h) => h.ratingKey === w.item("12").ratingKey)!;
    expect(Math.abs(w.plays("12")[0]! - viewed.viewedAt * 1000)).toBeLessThanOrEqual(2000);
    // Visible: /metrics counts it, the scene's page and the write-back page list it.
    const metrics = await (await adminGet(`${w.app.url}/metrics`)).text();
    expect(metrics).toMatch(
      /stash2plex_writeback_events_applied_total\{stash_instance="default",kind="play",wrote="true"\} 2/,
    );
    expect(metrics).toMatch(/stash2plex_writeback_events_waiting\{stash_instance="default"\} 0/);
    expect(metrics).toMatch(
      /stash2plex_writeback_events_received_total\{stash_instance="default",source="webhook",kind="play"\} 2/,
    );
    const overview = await (await adminGet(`${w.app.url}/ui`)).text();
    expect(overview).toMatch(/id="writeback-card"[\s\S]*?0<\/span> waiting/);
    const scenePage = await (await adminGet(`${w.app.url}/ui/scenes/12`)).text();
    expect(scenePage).toContain("From Plex (write-back)");
    expect(scenePage).toContain("watched to the end");
    const page = await (await adminGet(`${w.app.url}/ui/writeback`)).text();
    expect(page).toContain("/hooks/plex?token=&lt;token&gt;");
    expect(page).not.toContain(PLEX_HOOK_TOKEN);
  }, 90_000);

  test("without Plex Pass (the notification stream and /status/sessions) a viewing is one play; stopping part-way sets the resume point", async () => {
    const w = await wbWorld({ WRITEBACK_NOTIFICATIONS: "true" });
    await Bun.sleep(300); // the stream connects
    w.pms.watch.view(w.item("16").ratingKey);
    expect(await waitFor(() => w.plays("16").length > 0, 60_000)).toBe(true);
    const rk = w.item("18").ratingKey;
    // A player's timelines come seconds apart; the stream is read while the session lasts.
    const key = w.pms.watch.play(rk);
    await Bun.sleep(200);
    w.pms.watch.progress(key, 400_000, "paused");
    await Bun.sleep(200);
    w.pms.watch.stop(key);
    expect(await waitFor(() => Math.abs((w.stash.library.scenes.get("18")!.resume_time ?? 0) - 400) <= 5, 60_000)).toBe(
      true,
    );
    await Bun.sleep(500);
    expect(w.plays("16")).toHaveLength(1);
    expect(w.plays("18")).toHaveLength(0);
  }, 90_000);

  test("the stream's path spelled either way: /:/websockets/notifications (as the clients in use spell it) is tried first and opens; a PMS answering only /:/websocket/notifications (as the API description spells it) still gives one play, through the stream", async () => {
    const w = await wbWorld({ WRITEBACK_NOTIFICATIONS: "true" });
    const stream = () => w.app.writeback.state().stream;
    const streamCalls = () => w.pms.calls.filter((c) => c.path.endsWith("/notifications")).map((c) => c.path);
    expect(await waitFor(() => stream().state === "connected", 10_000)).toBe(true);
    expect(streamCalls()).toEqual(["/:/websockets/notifications"]);
    // This PMS answers the described spelling only (the plural is a 404); the connection drops.
    w.pms.watch.streamPaths = new Set(["/:/websocket/notifications"]);
    const first = stream().since;
    await w.pms.stop();
    w.pms.start();
    // Connected again: a new connection (the other spelling, tried at once after the 404; not a failure).
    expect(await waitFor(() => stream().state === "connected" && stream().since !== first, 20_000)).toBe(true);
    expect(streamCalls().at(-1)).toBe("/:/websocket/notifications");
    await w.pms.idle();
    // The catch-up the reconnect started is over before the viewing: only the stream can see it.
    await w.app.writeback.catchUp.run();
    w.pms.watch.view(w.item("14").ratingKey);
    expect(await waitFor(() => w.plays("14").length > 0, 30_000)).toBe(true);
    const [event] = w.app.writeback.events
      .forRef(sceneRef(DEFAULT_INSTANCE_ID, "14"))
      .filter((e) => e.event.kind === "play");
    expect(event!.sources).toContain("notification");
    await Bun.sleep(300);
    expect(w.plays("14")).toHaveLength(1);
  }, 60_000);

  test("viewings made while the service was stopped, and while Stash was down, arrive once after", async () => {
    const w = await wbWorld({ WRITEBACK_NOTIFICATIONS: "true" });
    w.pms.watch.webhooks = [w.hookUrl()];
    await waitFor(() => w.app.writeback.events.watermark("history") !== undefined, 10_000);
    // Stash down: the webhook is stored, its write waits.
    await w.stash.stop();
    w.pms.watch.view(w.item("20").ratingKey);
    await w.pms.watch.idle();
    await Bun.sleep(500);
    expect(w.app.writeback.events.counts().pending).toBeGreaterThan(0);
    await w.stash.start();
    expect(await waitFor(() => w.plays("20").length > 0, 60_000)).toBe(true);
    // The service stopped: the webhook is lost (Plex does not retry), the history keeps it.
    await w.app.stop();
    w.pms.watch.view(w.item("22").ratingKey);
    await w.pms.watch.idle();
    const again = createApp(w.app.config, { log: silentLogger });
    cleanups.push(() => again.stop());
    await again.start(0, "127.0.0.1");
    expect(await waitFor(() => w.plays("22").length > 0, 60_000)).toBe(true);
    await waitFor(() => again.writeback.events.counts().pending === 0, 10_000);
    await Bun.sleep(500);
    expect(w.plays("20")).toHaveLength(1);
    expect(w.plays("22")).toHaveLength(1);
    expect(w.stash.library.writeCount("sceneAddPlay")).toBe(2);
  }, 90_000);

  test("without Plex Pass (the stream and the history only; PMS reading history filters as python-plexapi spells them): a viewing to the end is one play within a minute; one made while the service was stopped arrives at start-up; viewings PMS held from before write-back was on are never replayed", async () => {
    const w = await wbWorld({ WRITEBACK_NOTIFICATIONS: "true" });
    expect(await waitFor(() => w.app.writeback.state().stream.state === "connected", 10_000)).toBe(true);
    expect(await waitFor(() => w.app.writeback.events.watermark("history") !== undefined, 10_000)).toBe(true);
    // PMS's history from before write-back was turned on: a day and a second before its bookmark.
    const since = w.app.writeback.events.watermark("history")!;
    w.pms.watch.pastViewing(w.item("30").ratingKey, since - 86_400);
    w.pms.watch.pastViewing(w.item("32").ratingKey, since - 1);
    // Watched to the end while the service runs: through the stream (no webhook is set).
    w.pms.watch.view(w.item("26").ratingKey);
    expect(await waitFor(() => w.plays("26").length > 0, 60_000)).toBe(true);
    // Watched while the service was stopped: read from the history at start-up.
    await w.app.stop();
    w.pms.watch.view(w.item("28").ratingKey);
    const again = createApp(w.app.config, { log: silentLogger });
    cleanups.push(() => again.stop());
    await again.start(0, "127.0.0.1");
    expect(await waitFor(() => w.plays("28").length > 0, 60_000)).toBe(true);
    // One more pass over the history, every write done: the earlier viewings are still not in Stash.
    await again.writeback.catchUp.run();
    expect(await waitFor(() => again.writeback.events.counts().pending === 0, 10_000)).toBe(true);
    await again.writeback.worker.idle();
    expect([w.plays("26"), w.plays("28"), w.plays("30"), w.plays("32")].map((p) => p.length)).toEqual([1, 1, 0, 0]);
    expect(w.stash.library.writeCount("sceneAddPlay")).toBe(2);
    expect(w.pms.watch.deliveries).toHaveLength(0);
    // Every history read asked from a moment on, spelled as python-plexapi does: `viewedAt>` = a plain number.
    const reads = w.pms.calls
      .filter((c) => c.path === "/status/sessions/history/all")
      .map((c) => new URLSearchParams(c.query).get("viewedAt>"));
    expect(reads.length).toBeGreaterThan(1);
    expect(reads.filter((v) => !/^\d+$/.test(v ?? ""))).toEqual([]);
  }, 150_000);

  test("a rating made in Plex reaches Stash (4 stars → 80); afterwards one sceneUpdate in all and no rating sent back to Plex (ratingAs=user)", async () => {
    const w = await wbWorld({ PROVIDER_RATING_AS: "user", SYNC_POLL_SECONDS: "1", SYNC_SWEEP_SECONDS: "1" });
    w.pms.watch.webhooks = [w.hookUrl()];
    const rk = w.item("24").ratingKey;
    const since = Date.now();
    w.pms.watch.rate(rk, 8);
    expect(await waitFor(() => w.stash.library.scenes.get("24")!.rating100 === 80, 60_000)).toBe(true);
    // Stash's change comes back through the poller: the push runs (Plex re-pulls the item)…
    expect(
      await waitFor(
        () => w.pms.calls.some((c) => c.ratingKey === rk && c.path.endsWith("/refresh") && c.at > since),
        30_000,
      ),
    ).toBe(true);
    // …and over the following polls and pushes (time-compressed: 1 s polls) nothing loops.
    await Bun.sleep(5_000);
    await w.pms.idle();
    expect(w.stash.library.writeCount("sceneUpdate")).toBe(1);
    expect(w.pms.calls.filter((c) => c.path === "/:/rate" && c.at > since)).toHaveLength(0);
    expect(w.pms.watch.deliveries.filter((d) => d.event === "media.rate")).toHaveLength(1);
  }, 90_000);
});

describe("failed events: Retry and Discard", () => {
  /** A form posted like the dashboard's own page (same origin) or as another site would. */
  const form = (headers: Record<string, string>, body: string) => ({
    method: "POST",
    headers: { "content-type": "application/x-www-form-urlencoded", ...headers },
    body,
    redirect: "manual" as const,
  });

  test("the page's Retry (one) writes a failed play once its scene is back; Discard (the API, by key) gives one up; a form or a call from another origin changes nothing", async () => {
    const w = await wbWorld();
    const events = w.app.writeback.events;
    // Two plays Stash cannot take: scene 20 is gone for a while, scene 99999 never was.
    const saved = w.stash.library.scenes.get("20")!;
    w.stash.library.scenes.delete("20");
    const gone = (key: string, sceneId: string, ratingKey: string): PlexEvent => ({
      key,
      kind: "play",
      source: "webhook",
      ref: sceneRef(DEFAULT_INSTANCE_ID, sceneId),
      ratingKey,
      account: { id: "1", name: "owner" },
      at: AT,
    });
    events.record(gone("gone-20", "20", w.item("20").ratingKey));
    events.record(gone("gone-x", "99999", "999999"));
    expect(await waitFor(() => events.counts().failed === 2, 20_000)).toBe(true);
    w.stash.library.scenes.set("20", saved);

    // The page offers Retry and Discard for each, and for all.
    const page = await (await adminGet(`${w.app.url}/ui/writeback`)).text();
    expect(page).toMatch(/<button name="one" value="gone-20"[^>]*>Retry<\/button>/);
    expect(page).toContain('formaction="/ui/actions/writeback/discard"');
    expect(page).toContain("Retry all 2 failed");

    // Signed in as a browser is (a session cookie), a form from another origin is refused.
    const signIn = await fetch(
      `${w.app.url}/ui/sign-in`,
      form({ origin: w.app.url!, "sec-fetch-site": "same-origin" }, `token=${encodeURIComponent(ADMIN_TOKEN)}`),
    );
    const cookie = signIn.headers.get("set-cookie")!.split(";")[0]!;
    const port = Number(new URL(w.app.url!).port);
    for (const headers of [
      { origin: `http://127.0.0.1:${port + 1}`, "sec-fetch-site": "same-site" },
      { origin: "http://evil.example", "sec-fetch-site": "cross-site" },
      {},
    ] as Record<string, string>[]) {
      const res = await fetch(`${w.app.url}/ui/actions/writeback/retry`, form({ cookie, ...headers }, "which=all"));
      expect([headers, res.status]).toEqual([headers, 403]);
      const api = await fetch(`${w.app.url}/api/writeback/discard`, {
        method: "POST",
        headers: { cookie, ...headers },
        body: '{"all":true}',
      });
      expect([headers, api.status]).toEqual([headers, 403]);
    }
    expect(events.counts().failed).toBe(2);
    expect(w.plays("20")).toHaveLength(0);

    // The page's Retry on the one row: back to the page saying so; the play reaches Stash once.
    const retry = await fetch(
      `${w.app.url}/ui/actions/writeback/retry`,
      form({ cookie, origin: w.app.url!, "sec-fetch-site": "same-origin" }, "one=gone-20"),
    );
    expect(retry.status).toBe(303);
    expect(decodeURIComponent(retry.headers.get("location")!)).toBe("/ui/writeback?done=1 event to be tried again");
    // Written at once (the Retry wakes the worker), not at its next 5-second pass.
    expect(await waitFor(() => events.get("gone-20")?.state === "done", 2_500)).toBe(true);
    expect(w.plays("20")).toHaveLength(1);
    expect(events.get("gone-20")!.outcome).toMatch(
      /^play added \(played 1 time in all\), at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC/,
    );
    expect(events.get("gone-x")!.state).toBe("failed");

    // The API: /api/status names the failed one by key; a body naming nothing is a 400 saying how; no token is a 401; by key, it discards.
    const api = (path: string, body: string, headers: Record<string, string> = adminAuth) =>
      fetch(`${w.app.url}/api/writeback/${path}`, {
        method: "POST",
        headers: { "content-type": "application/json", ...headers },
        body,
      });
    const listed = ((await (await adminGet(`${w.app.url}/api/status`)).json()) as any).writeback.failedEvents;
    expect(listed).toEqual([
      {
        key: "gone-x",
        kind: "play",
        ref: "default:scene:99999",
        at: AT,
        error: expect.stringContaining("not in Stash"),
      },
    ]);
    // The page's "Discard all" asks first: a page with the question, nothing discarded; "Yes" discards.
    const same = { cookie, origin: w.app.url!, "sec-fetch-site": "same-origin" };
    const ask = await fetch(`${w.app.url}/ui/actions/writeback/discard`, form(same, "which=all"));
    expect(ask.status).toBe(200);
    const question = await ask.text();
    expect(question).toContain("Discard all 1 failed event?");
    expect(question).toContain('name="confirmed" value="yes"');
    expect(events.get("gone-x")!.state).toBe("failed");
    const bad = await api("retry", "{}");
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toContain('{"all": true}');
    expect((await api("discard", '{"keys":["gone-x"]}', {})).status).toBe(401);
    expect(await (await api("discard", '{"keys":["gone-x"]}')).json()).toEqual({ discarded: 1 });
    expect(events.get("gone-x")!.state).toBe("ignored");
    expect(events.get("gone-x")!.lastError).toContain("discarded");
    // Nothing failed is left: retrying all retries none.
    expect(await (await api("retry", '{"all":true}')).json()).toEqual({ retried: 0 });
    expect(events.counts().failed).toBe(0);
  }, 60_000);
});

describe("kill -9 of the real process", () => {
  /** The simulators, a scanned library and a service process with write-back on (the Plex webhook). */
  async function processWorld() {
    const stash = new StashSim({ scenes: 60, seed: 3 }).start();
    const pms = new PmsSim().start();
    const procs: ReturnType<typeof Bun.spawn>[] = [];
    cleanups.push(async () => {
      for (const p of procs) p.kill("SIGKILL");
      await pms.stop();
      await stash.stop();
    });
    pms.addSection(
      { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
      plexFilesFor(stash),
    );
    const port = freePort();
    const env = { ...testEnv(stash, pms, wbEnv()), LISTEN_HOST: "127.0.0.1", LISTEN_PORT: String(port) };
    const url = `http://127.0.0.1:${port}`;
    const spawn = async () => {
      const proc = spawnMain(env);
      procs.push(proc);
      expect(await healthy(port)).toBe(true);
      return proc;
    };
    const first = await spawn();
    pms.providerUrl = url;
    await pms.scan("1", { concurrency: 8 });
    pms.watch.webhooks = [`${url}/hooks/plex?token=${PLEX_HOOK_TOKEN}`];
    const rk = [...pms.items.values()].find((i) => i.guid === `${IDENTIFIER}://movie/12`)!.ratingKey;
    const plays = () => stash.library.scenes.get("12")!.play_history ?? [];
    const status = async () =>
      ((await (await fetch(`${url}/api/status`, { headers: adminAuth })).json()) as { writeback: { pending: number } })
        .writeback;
    return { stash, pms, first, spawn, rk, plays, status };
  }

  test("killed after the webhook was answered, before Stash was written: after a restart the play is written once", async () => {
    const w = await processWorld();
    // Stash answers slowly: the applier is waiting on it when the process dies.
    w.stash.faults.latencyMs = 1500;
    w.pms.watch.view(w.rk);
    expect(
      await waitFor(() => w.pms.watch.deliveries.some((d) => d.event === "media.scrobble" && d.status === 200), 10_000),
    ).toBe(true);
    w.first.kill("SIGKILL");
    await w.first.exited;
    await Bun.sleep(2000); // the read under way completes in Stash: nothing was written
    expect(w.plays()).toHaveLength(0);
    w.stash.faults.latencyMs = 0;
    await w.spawn();
    expect(await waitFor(() => w.plays().length > 0, 30_000)).toBe(true);
    expect(await waitFor(async () => (await w.status()).pending === 0, 10_000)).toBe(true);
    expect(w.plays()).toHaveLength(1);
    expect(w.stash.library.writeCount("sceneAddPlay")).toBe(1);
  }, 90_000);

  test("killed between Stash's write and the queue's done: after a restart nothing is written twice", async () => {
    const w = await processWorld();
    const library = w.stash.library;
    const addPlays = library.addPlays.bind(library);
    // The instant Stash has written the play, the service dies (its answer never arrives).
    library.addPlays = (id, times) => {
      const history = addPlays(id, times);
      w.first.kill("SIGKILL");
      library.addPlays = addPlays;
      return history;
    };
    w.pms.watch.view(w.rk);
    expect(await waitFor(() => w.plays().length > 0, 30_000)).toBe(true);
    await w.first.exited;
    await w.spawn();
    expect(await waitFor(async () => (await w.status()).pending === 0, 30_000)).toBe(true);
    await Bun.sleep(500);
    expect(w.plays()).toHaveLength(1);
    expect(library.writeCount("sceneAddPlay")).toBe(1);
  }, 90_000);
});

describe("check, with write-back on", () => {
  test("finds the owner and each allow-listed user among Plex's accounts, names one that is not there, and prints the webhook URL without the token", async () => {
    const stash = new StashSim({ scenes: 5, seed: 1 }).start();
    const pms = new PmsSim().start();
    cleanups.push(
      () => pms.stop(),
      () => stash.stop(),
    );
    pms.watch.accounts.push({ id: 7, name: "Alice", plexTvId: "1234" });
    const config = loadConfig(
      testEnv(stash, pms, { ...wbEnv(), WRITEBACK_USERS: "1,alice,bob", PUBLIC_URL: "http://s2p.local:8000" }),
      undefined,
    );
    const lines = await runChecks(config);
    const text = lines.map(formatCheckLine).join("\n");
    expect(text).toContain("ok   write-back owner: Plex's server owner is owner (#1)");
    expect(text).toContain("ok   write-back user alice: an account of this server: Alice (#7)");
    expect(text).toContain(
      "FAIL write-back user bob: no account of this Plex server has that id or name; it has owner (#1), Alice (#7)",
    );
    expect(text).toContain("http://s2p.local:8000/hooks/plex?token=<WRITEBACK_WEBHOOK_TOKEN>");
    expect(text).not.toContain(PLEX_HOOK_TOKEN);
    // The notification stream: which spelling of its path this PMS opens, or that neither does.
    const withStream = loadConfig(testEnv(stash, pms, { ...wbEnv(), WRITEBACK_NOTIFICATIONS: "true" }), undefined);
    const streamLine = async () =>
      (await runChecks(withStream)).map(formatCheckLine).find((l) => l.includes("write-back notifications"));
    expect(await streamLine()).toBe(
      "ok   write-back notifications: PMS's notification stream opens at /:/websockets/notifications",
    );
    pms.watch.streamPaths = new Set(["/:/websocket/notifications"]);
    expect(await streamLine()).toContain("opens at /:/websocket/notifications");
    pms.watch.streamPaths = new Set();
    const none = await streamLine();
    expect(none).toMatch(/^FAIL write-back notifications: PMS's notification stream did not open/);
    expect(none).not.toContain(pms.token);
    // A wrong Plex token: one line saying so.
    const wrong = await runChecks(loadConfig(testEnv(stash, pms, { ...wbEnv(), PLEX_TOKEN: "nope" }), undefined));
    expect(wrong.map(formatCheckLine).join("\n")).toMatch(
      /FAIL write-back: cannot read Plex's accounts with the token: .*401/,
    );
  }, 30_000);
});
