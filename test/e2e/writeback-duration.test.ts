/**
 * Write-back polish (issue 21): the time a viewing spent playing reaches Stash's play_duration
 * once (sceneSaveActivity ADDS it), measured from the webhooks and from the notification
 * stream; and the moving parts (the stream, each Stash's write-back breaker, the catch-up) are
 * visible on the write-back page, the overview, /api/status and /metrics. Through the real
 * service and both simulators, in real time (a player's pause is seconds long here).
 */
import { afterEach, describe, expect, test } from "bun:test";
import { adminAuth, adminGet, IDENTIFIER, startWorld, tempDir, waitFor } from "../helpers.ts";
import { DEFAULT_INSTANCE_ID, sceneRef } from "../../src/domain/ref.ts";
import { openStore } from "../../src/store/db.ts";
import { createEventQueue, eventKeys } from "../../src/writeback/events.ts";
import type { PlexEvent } from "../../src/writeback/types.ts";

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const HOOK_TOKEN = "plex-hook-token-321";

async function world(env: Record<string, string> = {}) {
  const w = await startWorld({
    seed: { scenes: 30 },
    env: {
      WRITEBACK_ENABLED: "true",
      WRITEBACK_WEBHOOK_TOKEN: HOOK_TOKEN,
      WRITEBACK_NOTIFICATIONS: "false",
      SYNC_RETRY_BASE_SECONDS: "0.05",
      SYNC_RETRY_CAP_SECONDS: "0.5",
      ...env,
    },
  });
  cleanups.push(() => w.close());
  await w.pms.scan("1", { concurrency: 8 });
  const rk = (sceneId: string) =>
    [...w.pms.items.values()].find((i) => i.guid === `${IDENTIFIER}://movie/${sceneId}`)!.ratingKey;
  const scene = (id: string) => w.stash.library.scenes.get(id)!;
  const hookUrl = `${w.app.url}/hooks/plex?token=${HOOK_TOKEN}`;
  /** Waits until every event is written and nothing more is under way. */
  const settled = async () => {
    await Bun.sleep(300); // the stream's last frames are on their way
    await w.pms.watch.idle();
    await w.app.writeback.notifications.idle();
    await waitFor(() => w.app.writeback.events.counts().pending === 0, 20_000);
    await w.app.writeback.worker.idle();
  };
  return { ...w, rk, scene, hookUrl, settled };
}

/** A receiver that keeps every webhook PMS posts, to replay them later. */
function captureHooks() {
  const bodies: { type: string; body: Uint8Array }[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      bodies.push({ type: req.headers.get("content-type")!, body: new Uint8Array(await req.arrayBuffer()) });
      return new Response("ok");
    },
  });
  cleanups.push(() => void server.stop(true));
  return { url: `http://127.0.0.1:${server.port}/`, bodies };
}

/**
 * Plays with a pause: 3 s from `fromMs`, a pause of 5 s, 2 s more; still playing. 5 s played,
 * 10 s went by. Answers the session's key.
 */
async function playWithPause(w: Awaited<ReturnType<typeof world>>, ratingKey: string, fromMs: number) {
  const key = w.pms.watch.play(ratingKey, { offsetMs: fromMs });
  await Bun.sleep(3000);
  w.pms.watch.progress(key, fromMs + 3000, "paused");
  await Bun.sleep(5000);
  w.pms.watch.progress(key, fromMs + 3000, "playing");
  await Bun.sleep(2000);
  w.pms.watch.progress(key, fromMs + 5000, "playing");
  return key;
}

/** A viewing with a pause from 1:40 (the items are 10 min or more), stopped at 1:45. */
async function viewWithPause(w: Awaited<ReturnType<typeof world>>, ratingKey: string) {
  w.pms.watch.stop(await playWithPause(w, ratingKey, 100_000));
}

/** Within ±1.5 s of the 5 s played (a count that kept the pause would be 10 s; one counted twice 10 s too). */
const fiveSecondsPlayed = (seconds: number | undefined) => Math.abs((seconds ?? 0) - 5) <= 1.5;

describe("time played", () => {
  test("webhooks: a viewing with a pause adds its playing time once (delivered twice each, and every webhook replayed afterwards, it adds nothing more); the stop's time counts though its resume point agrees (±5 s)", async () => {
    const w = await world();
    const capture = captureHooks();
    w.pms.watch.webhooks = [w.hookUrl, capture.url];
    w.pms.watch.duplicates = 2;
    await viewWithPause(w, w.rk("5"));
    await w.settled();
    const played = w.scene("5").play_duration;
    expect(fiveSecondsPlayed(played)).toBe(true);
    // The pause set the resume point (103 s); the stop at 105 s agrees with it (±5 s), so only its time played was written.
    expect(w.scene("5").resume_time).toBe(103);
    const saves = w.stash.library.writes.filter((x) => x.op === "sceneSaveActivity" && x.id === "5");
    expect(saves.map((x) => x.input)).toEqual([
      { resume_time: 103, playDuration: expect.any(Number) },
      { resume_time: null, playDuration: expect.any(Number) },
    ]);
    expect((saves[0]!.input as { playDuration: number }).playDuration).toBeGreaterThan(2);
    expect((saves[1]!.input as { playDuration: number }).playDuration).toBeGreaterThan(1);
    // Every webhook of the viewing replayed: nothing more is stored, nothing more is added.
    for (const b of capture.bodies) {
      const res = await fetch(w.hookUrl, { method: "POST", headers: { "content-type": b.type }, body: b.body });
      expect(res.status).toBe(200);
    }
    await w.settled();
    expect(w.scene("5").play_duration).toBe(played!);
    expect(w.stash.library.writeCount("sceneSaveActivity", "5")).toBe(2);
    // The event rows say what was added.
    const notes = w.app.writeback.events.recent(10).map((e) => e.outcome ?? "");
    expect(notes.filter((n) => /s played added/.test(n))).toHaveLength(2);
    // To the whole second, as people read it ("0.004 s" was the sim's milliseconds).
    expect(notes.filter((n) => /played added/.test(n)).every((n) => /; \d+ s played added/.test(n))).toBe(true);
  }, 60_000);

  test("the notification stream (no Plex Pass): the same viewing adds its playing time once", async () => {
    const w = await world({ WRITEBACK_NOTIFICATIONS: "true" });
    expect(await waitFor(() => w.app.writeback.notifications.status().connected, 10_000)).toBe(true);
    await viewWithPause(w, w.rk("6"));
    await w.settled();
    expect(fiveSecondsPlayed(w.scene("6").play_duration)).toBe(true);
    expect(w.scene("6").resume_time).toBe(103);
  }, 60_000);

  test("webhooks and the stream both on: a viewing to the end with a pause (a seek forward to the end counts no time) adds its time once, split between the play and the finish", async () => {
    const w = await world({ WRITEBACK_NOTIFICATIONS: "true" });
    w.pms.watch.webhooks = [w.hookUrl];
    expect(await waitFor(() => w.app.writeback.notifications.status().connected, 10_000)).toBe(true);
    const key = await playWithPause(w, w.rk("7"), 0);
    w.pms.watch.progress(key, 580_000, "playing"); // a seek to the end: past 90 %, the scrobble
    w.pms.watch.stop(key);
    await w.settled();
    expect(w.scene("7").play_history).toHaveLength(1);
    // Each source measured the viewing; the time is in Stash once (twice would be ~10 s).
    expect(fiveSecondsPlayed(w.scene("7").play_duration)).toBe(true);
    const events = w.app.writeback.events.recent(20).filter((e) => e.event.ref.id === "7");
    expect(events.every((e) => e.state === "done")).toBe(true);
  }, 60_000);

  test("the same pause told by the webhook and the stream a second apart (either side of a second: two keys) is one event: its time played is stored once", () => {
    const store = openStore(tempDir());
    cleanups.push(() => store.close());
    const events = createEventQueue(store);
    const pause = (source: "webhook" | "notification", offsetMs: number, at: number): PlexEvent => ({
      source,
      kind: "progress",
      ref: sceneRef(DEFAULT_INSTANCE_ID, "3"),
      ratingKey: "30",
      account: { id: "1" },
      viewOffsetMs: offsetMs,
      playedMs: 4000,
      key: eventKeys.progress(sceneRef(DEFAULT_INSTANCE_ID, "3"), "30", "1", offsetMs),
      at,
    });
    const t = Date.now();
    expect(events.record(pause("webhook", 102_900, t))).toBe(true);
    expect(events.record(pause("notification", 103_100, t + 400))).toBe(false);
    expect(events.size()).toBe(1);
    expect(events.recent(5)[0]!.sources).toEqual(["webhook", "notification"]);
    // The same source's own later pause near there (a seek back, played again) is its own event.
    expect(events.record(pause("webhook", 103_500, t + 30_000))).toBe(true);
  });

  test("a write of the time played that failed after it was handed to Stash is not sent again: the time counts once, or is lost, never twice", async () => {
    const w = await world();
    w.pms.watch.webhooks = [w.hookUrl];
    const library = w.stash.library;
    const save = library.saveActivity.bind(library);
    // Scene 8: Stash applies the write, then its answer fails (a timeout, a proxy). Scene 10:
    // the write fails before Stash applies it. Each once.
    const failed = new Set<string>();
    library.saveActivity = (id, resume, played) => {
      const first = !failed.has(id);
      failed.add(id);
      if (first && id === "10") throw new Error("database is locked");
      const ok = save(id, resume, played);
      if (first && id === "8") throw new Error("database is locked");
      return ok;
    };
    for (const id of ["8", "10"]) {
      const key = w.pms.watch.play(w.rk(id), { offsetMs: 100_000 });
      await Bun.sleep(2000);
      w.pms.watch.progress(key, 102_000, "paused");
    }
    await w.settled();
    const rows = w.app.writeback.events.recent(10).filter((e) => e.event.kind === "progress");
    expect(rows.map((r) => [r.event.ref.id, r.state, r.attempts, r.playedSentAt !== null])).toEqual([
      ["10", "done", 1, true],
      ["8", "done", 1, true],
    ]);
    // Scene 8: the retry finds the resume point there and sends nothing: the time played once.
    expect(library.writes.filter((x) => x.op === "sceneSaveActivity" && x.id === "8")).toHaveLength(1);
    expect(Math.abs(w.scene("8").play_duration! - 2)).toBeLessThanOrEqual(1);
    // Scene 10: the retry writes the resume point without the time played (lost, not doubled).
    const saves10 = library.writes.filter((x) => x.op === "sceneSaveActivity" && x.id === "10");
    expect(saves10.map((x) => x.input)).toEqual([{ resume_time: 102, playDuration: null }]);
    expect(w.scene("10").play_duration ?? 0).toBe(0);
    expect(w.scene("10").resume_time).toBe(102);
  }, 60_000);
});

interface Status {
  writeback: {
    stream: { state: string; since: number | null; lastError: string | null };
    breakers: { instance: string; state: string; since: number | null; lastError: string | null }[];
    catchUp: { watermark: number | null; lastRun: { at: number } | null };
  };
}

describe("what write-back is doing, visible", () => {
  test("PMS stops: the page, the overview, /api/status and /metrics say the stream is reconnecting (since when, the error) and connected again when PMS is back; a Stash that does not answer shows its breaker open, then closed; the catch-up's watermark and last run", async () => {
    const w = await world({ WRITEBACK_NOTIFICATIONS: "true" });
    w.pms.watch.webhooks = [w.hookUrl];
    const status = async () =>
      ((await (await fetch(`${w.app.url}/api/status`, { headers: adminAuth })).json()) as Status).writeback;
    const page = async () => await (await adminGet(`${w.app.url}/ui/writeback`)).text();
    const metric = async () =>
      /^stash2plex_writeback_stream_connected (\d)$/m.exec(await (await adminGet(`${w.app.url}/metrics`)).text())?.[1];
    expect(await waitFor(async () => (await status()).stream.state === "connected", 10_000)).toBe(true);
    expect(await waitFor(async () => (await status()).catchUp.lastRun !== null, 10_000)).toBe(true);
    let s = await status();
    expect(s.catchUp.watermark).toBeGreaterThan(Date.now() / 1000 - 60);
    expect(s.breakers).toEqual([{ instance: "default", state: "closed", since: null, lastError: null }]);
    expect(await page()).toMatch(
      /id="writeback-stream" data-state="connected"><span class="ok">connected since 20\d\d-/,
    );
    expect(await page()).toMatch(/id="writeback-catch-up">history read up to 20\d\d-[\s\S]*?last run \d+ s ago/);
    expect(await metric()).toBe("1");

    const downAt = Date.now();
    await w.pms.stop();
    expect(await waitFor(async () => (await status()).stream.state === "reconnecting", 10_000)).toBe(true);
    s = await status();
    expect(s.stream.since).toBeGreaterThanOrEqual(downAt - 1000);
    expect(s.stream.lastError).toContain("notification stream");
    const down = await page();
    const line = /id="writeback-stream" data-state="reconnecting"><span class="bad">([^<]*)</.exec(down)?.[1] ?? "";
    expect(line).toMatch(
      /^reconnecting since 20\d\d-\d\d-\d\d \d\d:\d\d:\d\d UTC \(\d+ failed tr(y|ies); last error: /,
    );
    expect(line).toContain("notification stream");
    expect(await (await adminGet(`${w.app.url}/ui`)).text()).toMatch(
      /id="writeback-card"[\s\S]*?stream: reconnecting since/,
    );
    expect(await metric()).toBe("0");

    await w.pms.start();
    expect(await waitFor(async () => (await status()).stream.state === "connected", 40_000)).toBe(true);
    expect(await page()).toContain('data-state="connected"');
    expect(await metric()).toBe("1");

    // Stash stops answering: a viewing's events wait behind the open breaker.
    await w.stash.stop();
    w.pms.watch.view(w.rk("9"));
    expect(await waitFor(async () => (await status()).breakers[0]!.state === "open", 20_000)).toBe(true);
    expect((await status()).breakers[0]!.since).toBeGreaterThan(downAt);
    expect(await page()).toMatch(/data-state="open"><span class="bad">open since 20\d\d-/);
    expect(await (await adminGet(`${w.app.url}/ui`)).text()).toMatch(/breaker open since/);
    await w.stash.start();
    expect(await waitFor(async () => (await status()).breakers[0]!.state === "closed", 30_000)).toBe(true);
    expect(await waitFor(() => (w.scene("9").play_history ?? []).length === 1, 20_000)).toBe(true);
    expect(await page()).toMatch(/data-state="closed"><span class="ok">closed/);
  }, 90_000);

  test("write-back on with the stream off: the page says off, /metrics says 0", async () => {
    const w = await world();
    const text = await (await adminGet(`${w.app.url}/ui/writeback`)).text();
    expect(text).toMatch(/data-state="off"><span class="muted">off \(WRITEBACK_NOTIFICATIONS=false/);
    const metrics = await (await adminGet(`${w.app.url}/metrics`)).text();
    expect(metrics).toContain("stash2plex_writeback_stream_connected 0");
  }, 30_000);
});
