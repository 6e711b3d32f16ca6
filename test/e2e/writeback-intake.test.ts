/**
 * Write-back intake (issue 21): what PMS tells about watching reaches one durable, idempotent
 * queue, whichever way it comes (Plex Pass webhooks, the notification stream with
 * /status/sessions, the watch-history catch-up) and however often. Through the real service
 * and the PMS simulator; the PMS simulator's own behaviour is checked first.
 */
import { afterEach, describe, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { createLogger, silentLogger } from "../../src/log.ts";
import { IDENTIFIER, testEnv, waitFor } from "../helpers.ts";
import { createPmsWatch } from "../../src/writeback/pms-watch.ts";

const HOOK_TOKEN = "plex-hook-token-789";
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** A Plex item of ours for Stash scene `id` (movie GUID), and one of another agent. */
function library(pms: PmsSim) {
  pms.addSection({ key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes"] }, []);
  const ours = ["1", "2", "3"].map((id) =>
    pms.addItem("1", `/media/Scenes/scene-${id}.mp4`, { guid: `${IDENTIFIER}://movie/${id}` }),
  );
  const foreign = pms.addItem("1", "/media/Scenes/other.mp4", { guid: "plex://movie/5d776b59ad5437001f79c6f8" });
  return { ours, foreign };
}

async function world(env: Record<string, string> = {}, log = silentLogger) {
  const stash = new StashSim({ scenes: 20, seed: 3 }).start();
  const pms = new PmsSim().start();
  const items = library(pms);
  const config = loadConfig(
    testEnv(stash, pms, { WRITEBACK_ENABLED: "true", WRITEBACK_WEBHOOK_TOKEN: HOOK_TOKEN, ...env }),
    undefined,
  );
  const w = {
    stash,
    pms,
    ...items,
    app: undefined as unknown as App,
    async start() {
      w.app = createApp(config, { log });
      await w.app.start(0, "127.0.0.1");
      // The first catch-up bookmarks where the history is (nothing before it is replayed).
      if (config.writeback.enabled) await waitFor(() => w.app.writeback.events.watermark("history") !== undefined);
    },
    async stopApp() {
      await w.app.stop();
    },
    hook: () => `${w.app.url}/hooks/plex?token=${HOOK_TOKEN}`,
    events: () => w.app.writeback.events.recent(1000),
    plays: () => w.app.writeback.events.recent(1000).filter((e) => e.event.kind === "play"),
  };
  await w.start();
  cleanups.push(
    () => stash.stop(),
    () => pms.stop(),
    () => w.app.stop(),
  );
  return w;
}

/** A receiver that keeps every webhook PMS posts (to replay them). */
function captureHooks() {
  const bodies: { type: string; body: Uint8Array; event: string }[] = [];
  const server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    async fetch(req) {
      const body = new Uint8Array(await req.arrayBuffer());
      const form = await new Response(body, {
        headers: { "content-type": req.headers.get("content-type")! },
      }).formData();
      bodies.push({
        type: req.headers.get("content-type")!,
        body,
        event: JSON.parse(String(form.get("payload"))).event,
      });
      return new Response("ok");
    },
  });
  cleanups.push(() => void server.stop(true));
  return { url: `http://127.0.0.1:${server.port}/`, bodies };
}

const multipart = (parts: Record<string, string | Blob>) => {
  const form = new FormData();
  for (const [name, value] of Object.entries(parts)) form.append(name, value);
  return form;
};
const payloadOf = (event: string, guid: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    event,
    user: true,
    owner: true,
    Account: { id: 1, title: "owner" },
    Server: { title: "PMS", uuid: "abc" },
    Metadata: {
      ratingKey: "1",
      guid,
      type: "movie",
      duration: 600000,
      viewOffset: 600000,
      lastViewedAt: Math.floor(Date.now() / 1000),
    },
    ...extra,
  });

describe("the PMS simulator's watching", () => {
  test("a viewing: sessions name the plex.tv user and vanish at stop; notifications carry no account; only a viewing past 90 % is history and marks the item watched; history survives PMS going down", async () => {
    const pms = new PmsSim().start();
    cleanups.push(() => pms.stop());
    const { ours } = library(pms);
    pms.watch.accounts.push({ id: 7, name: "guest", plexTvId: "7" });
    const token = `X-Plex-Token=${pms.token}`;
    const frames: any[] = [];
    const ws = new WebSocket(`${pms.url.replace("http", "ws")}/:/websockets/notifications?${token}`);
    ws.onmessage = (m) => frames.push(JSON.parse(String(m.data)));
    await new Promise((r) => (ws.onopen = r));
    const closed = new Promise((r) => (ws.onclose = r));

    const key = pms.watch.play(ours[0]!.ratingKey);
    const sessions = (await (await fetch(`${pms.url}/status/sessions?${token}`)).json()) as any;
    expect(sessions.MediaContainer.Metadata[0]).toMatchObject({
      sessionKey: key,
      User: { id: "8675309", title: "owner" },
    });
    pms.watch.progress(key, 200_000, "paused");
    pms.watch.stop(key);
    // Stopped at a third: no history, a resume point, not watched.
    const history = async (q = "") =>
      ((await (await fetch(`${pms.url}/status/sessions/history/all?${token}${q}`)).json()) as any).MediaContainer;
    expect((await history()).size).toBe(0);
    const item = async () =>
      ((await (await fetch(`${pms.url}/library/metadata/${ours[0]!.ratingKey}?${token}`)).json()) as any).MediaContainer
        .Metadata[0];
    expect(await item()).toMatchObject({ viewOffset: 200_000 });
    expect((await item()).viewCount).toBeUndefined();

    pms.watch.view(ours[1]!.ratingKey, { accountId: 7 });
    pms.watch.view(ours[0]!.ratingKey);
    expect((await (await fetch(`${pms.url}/status/sessions?${token}`)).json()) as any).toMatchObject({
      MediaContainer: { size: 0 },
    });
    await waitFor(() => frames.length >= 3 + 6 * 2);
    const notes = frames.map((f) => f.NotificationContainer.PlaySessionStateNotification[0]);
    expect(frames.every((f) => f.NotificationContainer.type === "playing")).toBe(true);
    expect(notes.some((n) => "accountID" in n || "User" in n)).toBe(false);
    expect(notes.filter((n) => n.state === "stopped")).toHaveLength(3);
    const all = await history("&sort=viewedAt:asc");
    expect(all.Metadata.map((h: any) => [h.ratingKey, h.accountID])).toEqual([
      [ours[1]!.ratingKey, 7],
      [ours[0]!.ratingKey, 1],
    ]);
    expect((await history("&accountID=7")).size).toBe(1);
    expect((await history(`&viewedAt>=${all.Metadata[0].viewedAt + 3600}`)).size).toBe(0);
    expect((await history("&X-Plex-Container-Start=1&X-Plex-Container-Size=1")).Metadata).toHaveLength(1);
    // The owner's own view of the item: watched, no resume point left.
    expect(await item()).toMatchObject({ viewCount: 1, lastViewedAt: all.Metadata[1].viewedAt });
    expect((await item()).viewOffset).toBeUndefined();

    await pms.stop();
    await closed; // the stream drops when PMS goes down
    pms.start();
    expect((await history()).size).toBe(2);
    ws.close();
  });

  test("history filters as python-plexapi spells them: the raw `viewedAt>=N` (the parameter `viewedAt>`, the value N) keeps viewings from N on, `>>=` after N, `<=` up to N; a value that is no number (`viewedAt>` = `=N`, stash2plex's old spelling) filters nothing; write-back's history read keeps what is from N on", async () => {
    const pms = new PmsSim().start();
    cleanups.push(() => pms.stop());
    const { ours } = library(pms);
    const T = 1_800_000_000;
    ours.forEach((item, i) => pms.watch.pastViewing(item.ratingKey, T + 60 * i));
    /** The viewedAt of the history's entries (from T, oldest first) that a raw query keeps. */
    const kept = async (raw: string) => {
      const res = await fetch(
        `${pms.url}/status/sessions/history/all?X-Plex-Token=${pms.token}&sort=viewedAt:asc&${raw}`,
      );
      return ((await res.json()) as any).MediaContainer.Metadata.map((h: any) => h.viewedAt - T);
    };
    expect(await kept(`viewedAt>=${T + 60}`)).toEqual([60, 120]);
    expect(await kept(`viewedAt%3E=${T + 60}`)).toEqual([60, 120]); // its name encoded: the same parameter
    expect(await kept(`viewedAt>>=${T + 60}`)).toEqual([120]);
    expect(await kept(`viewedAt<=${T + 60}`)).toEqual([0, 60]);
    expect(await kept(`viewedAt%3E==${T + 60}`)).toEqual([0, 60, 120]);
    const watch = createPmsWatch({ url: pms.url, token: pms.token, timeoutMs: 2_000 });
    const { entries } = await watch.history({ sinceS: T + 60 });
    expect(entries.map((e) => e.viewedAt - T)).toEqual([60, 120]);
  });

  test("webhooks: multipart with a JSON payload (a thumb part on play and rate), in order, scrobble then stop, PUT /:/rate fires media.rate; a receiver that is down loses them", async () => {
    const pms = new PmsSim().start();
    cleanups.push(() => pms.stop());
    const { ours } = library(pms);
    const hooks = captureHooks();
    pms.watch.webhooks = [hooks.url];
    pms.watch.view(ours[0]!.ratingKey);
    const res = await fetch(
      `${pms.url}/:/rate?key=${ours[0]!.ratingKey}&identifier=com.plexapp.plugins.library&rating=8`,
      {
        method: "PUT",
        headers: { "x-plex-token": pms.token },
      },
    );
    expect(res.status).toBe(200);
    await pms.watch.idle();
    expect(hooks.bodies.map((b) => b.event)).toEqual(["media.play", "media.scrobble", "media.stop", "media.rate"]);
    expect(hooks.bodies.every((b) => b.type.startsWith("multipart/form-data; boundary="))).toBe(true);
    const parts = async (i: number) => {
      const form = await new Response(hooks.bodies[i]!.body, {
        headers: { "content-type": hooks.bodies[i]!.type },
      }).formData();
      return { names: [...form.keys()], payload: JSON.parse(String(form.get("payload"))) };
    };
    expect((await parts(0)).names).toEqual(["payload", "thumb"]);
    expect((await parts(1)).names).toEqual(["payload"]);
    const scrobble = (await parts(1)).payload;
    expect(scrobble).toMatchObject({
      Account: { id: 1 },
      Metadata: { guid: `${IDENTIFIER}://movie/1`, type: "movie" },
    });
    expect(scrobble.Metadata.lastViewedAt).toBeGreaterThan(0);
    expect((await parts(3)).payload).toMatchObject({ event: "media.rate", rating: 8, Metadata: { userRating: 8 } });

    pms.watch.webhooks = ["http://127.0.0.1:9/"]; // nothing listens: lost, not retried
    pms.watch.view(ours[1]!.ratingKey);
    await pms.watch.idle();
    expect(pms.watch.deliveries.filter((d) => d.status === 0).length).toBe(3);
  });
});

describe("intake into one queue", () => {
  test("webhook: a viewing to the end is one play; the same webhooks replayed 10 times store nothing new", async () => {
    const w = await world({ WRITEBACK_NOTIFICATIONS: "false" });
    const hooks = captureHooks();
    w.pms.watch.webhooks = [w.hook(), hooks.url];
    w.pms.watch.view(w.ours[0]!.ratingKey);
    await w.pms.watch.idle();
    expect(w.plays()).toHaveLength(1);
    expect(w.plays()[0]).toMatchObject({
      sources: ["webhook"],
      event: { ref: { instance: "default", kind: "scene", id: "1" }, account: { id: "1" } },
    });
    const stored = w.events().length;
    expect(stored).toBe(2); // the play, and the finished stop (resume point cleared)

    for (let i = 0; i < 10; i++)
      for (const b of hooks.bodies) {
        const res = await fetch(w.hook(), { method: "POST", headers: { "content-type": b.type }, body: b.body });
        expect(res.status).toBe(200);
      }
    expect(w.events().length).toBe(stored);
    expect(w.plays()).toHaveLength(1);
    // A duplicate delivery by PMS itself (it happens) is no second play either.
    w.pms.watch.duplicates = 2;
    w.pms.watch.view(w.ours[1]!.ratingKey);
    await w.pms.watch.idle();
    expect(w.plays().filter((e) => e.event.ratingKey === w.ours[1]!.ratingKey)).toHaveLength(1);
    // The worker drains the queue through the applier: Stash holds one play of each scene.
    expect(await waitFor(() => w.app.writeback.events.counts().pending === 0)).toBe(true);
    expect(w.plays().map((e) => e.state)).toEqual(["done", "done"]);
    expect(w.stash.library.scenes.get("1")!.play_history).toHaveLength(1);
    expect(w.stash.library.scenes.get("2")!.play_history).toHaveLength(1);
  });

  test("webhook: a stop part-way is progress at its offset, a rating in Plex a rate event; replays store nothing new", async () => {
    const w = await world({ WRITEBACK_NOTIFICATIONS: "false" });
    const hooks = captureHooks();
    w.pms.watch.webhooks = [w.hook(), hooks.url];
    w.pms.watch.view(w.ours[0]!.ratingKey, { toFraction: 0.4 });
    const rated = await fetch(
      `${w.pms.url}/:/rate?key=${w.ours[1]!.ratingKey}&identifier=com.plexapp.plugins.library&rating=8`,
      { method: "PUT", headers: { "x-plex-token": w.pms.token } },
    );
    expect(rated.status).toBe(200);
    await w.pms.watch.idle();
    const kinds = () => w.events().map((e) => [e.event.kind, e.event.ratingKey]);
    expect(w.plays()).toHaveLength(0);
    const progress = w.events().find((e) => e.event.kind === "progress")!;
    expect(progress.event).toMatchObject({ viewOffsetMs: 240_000, ref: { id: "1" } });
    const rate = w.events().find((e) => e.event.kind === "rate")!;
    expect(rate.event).toMatchObject({ rating: 8, ref: { id: "2" }, account: { id: "1", name: "owner" } });
    const before = kinds();
    for (let i = 0; i < 3; i++)
      for (const b of hooks.bodies)
        await fetch(w.hook(), { method: "POST", headers: { "content-type": b.type }, body: b.body });
    expect(kinds()).toEqual(before);
    // The library listing tells the same rating (userRating, lastRatedAt): the catch-up keys it alike.
    await w.app.writeback.catchUp.run(true);
    expect(kinds()).toEqual(before);
    expect(w.app.writeback.events.get(rate.key)!.sources).toEqual(["webhook", "history"]);
  });

  test("notifications without webhooks: a viewing is one play, keyed like the history's (the catch-up afterwards adds none)", async () => {
    const w = await world();
    await waitFor(() => w.app.writeback.notifications.status().connected);
    // The catch-up a connect starts is over before the viewing: only the stream can see it.
    await w.app.writeback.catchUp.run();
    w.pms.watch.view(w.ours[2]!.ratingKey);
    expect(await waitFor(() => w.plays().length === 1, 10_000)).toBe(true);
    expect(w.plays()[0]!.sources).toEqual(["notification"]);
    const viewedAt = w.pms.watch.history.at(-1)!.viewedAt;
    expect(w.plays()[0]!.key).toBe(`play:default:${w.ours[2]!.ratingKey}:1:${viewedAt}`);
    await w.app.writeback.catchUp.run();
    expect(w.plays()).toHaveLength(1);
    expect(w.plays()[0]!.sources).toEqual(["notification", "history"]);
    // A stop part-way is progress with its offset, the account learnt from /status/sessions.
    const key = w.pms.watch.play(w.ours[0]!.ratingKey);
    await Bun.sleep(100);
    w.pms.watch.progress(key, 123_000, "paused");
    expect(
      await waitFor(() => w.events().some((e) => e.event.kind === "progress" && e.event.viewOffsetMs === 123_000)),
    ).toBe(true);
    const progress = w.events().find((e) => e.event.kind === "progress" && e.event.viewOffsetMs === 123_000)!;
    expect(progress.event.account).toEqual({ id: "1", name: "owner" });
  });

  test("the stream reconnects after PMS was down, and what ended meanwhile arrives through the history", async () => {
    const w = await world();
    await waitFor(() => w.app.writeback.notifications.status().connected);
    await w.pms.stop();
    expect(await waitFor(() => !w.app.writeback.notifications.status().connected)).toBe(true);
    // Watched while the stream was down (PMS back, before the reconnect).
    w.pms.start();
    w.pms.watch.view(w.ours[0]!.ratingKey);
    expect(await waitFor(() => w.app.writeback.notifications.status().connected, 15_000)).toBe(true);
    expect(await waitFor(() => w.plays().length === 1, 10_000)).toBe(true);
  }, 30_000);

  test("Stash down: events wait in the queue (the breaker opens, attempts are not spent) and are written once when it is back", async () => {
    const w = await world({ WRITEBACK_NOTIFICATIONS: "false", SYNC_RETRY_BASE_SECONDS: "0.05" });
    w.pms.watch.webhooks = [w.hook()];
    await w.stash.stop();
    w.pms.watch.view(w.ours[0]!.ratingKey);
    w.pms.watch.view(w.ours[1]!.ratingKey);
    await w.pms.watch.idle();
    expect(w.plays()).toHaveLength(2);
    expect(await waitFor(() => w.app.writeback.worker.breakers()[0]!.open, 10_000)).toBe(true);
    expect(w.app.writeback.events.counts()).toMatchObject({ done: 0, failed: 0 });
    const attempts = w.events().reduce((n, e) => n + e.attempts, 0);
    expect(attempts).toBeLessThanOrEqual(2); // the two before the third "down" opened it
    w.stash.start();
    expect(await waitFor(() => w.app.writeback.events.counts().pending === 0, 20_000)).toBe(true);
    expect(w.plays().map((e) => e.state)).toEqual(["done", "done"]);
    expect(w.stash.library.scenes.get("1")!.play_history).toHaveLength(1);
    expect(w.stash.library.scenes.get("2")!.play_history).toHaveLength(1);
  }, 40_000);

  test("catch-up: viewings made while stash2plex was stopped arrive after the restart, once", async () => {
    const w = await world({ WRITEBACK_NOTIFICATIONS: "false" });
    await w.stopApp();
    w.pms.watch.view(w.ours[0]!.ratingKey);
    w.pms.watch.view(w.ours[1]!.ratingKey);
    w.pms.watch.view(w.foreign.ratingKey); // another agent's item: not ours to write
    w.pms.watch.view(w.ours[2]!.ratingKey, { toFraction: 0.5 }); // not finished: no history entry
    w.pms.watch.rate(w.ours[2]!.ratingKey, 6); // rated in a Plex app meanwhile
    w.pms.watch.rate(w.foreign.ratingKey, 10);
    await w.start();
    expect(await waitFor(() => w.plays().length === 2)).toBe(true);
    expect(await waitFor(() => w.events().some((e) => e.event.kind === "rate"))).toBe(true);
    expect(
      w
        .events()
        .filter((e) => e.event.kind === "rate")
        .map((e) => e.event),
    ).toEqual([expect.objectContaining({ rating: 6, ratingKey: w.ours[2]!.ratingKey, account: { id: "1" } })]);
    expect(
      w
        .plays()
        .map((e) => e.event.ratingKey)
        .sort(),
    ).toEqual([w.ours[0]!.ratingKey, w.ours[1]!.ratingKey].sort());
    expect(w.plays().every((e) => e.sources.join() === "history")).toBe(true);
    // Run again, and after another restart: nothing new.
    await w.app.writeback.catchUp.run();
    await w.stopApp();
    await w.start();
    await w.app.writeback.catchUp.run(true);
    expect(w.plays()).toHaveLength(2);
    expect(w.events().filter((e) => e.event.kind === "rate")).toHaveLength(1);
    expect(w.app.writeback.events.watermark("history")).toBe(Math.max(...w.pms.watch.history.map((h) => h.viewedAt)));
  });

  test("catch-up: viewings PMS's history held from before write-back was on (before its bookmark) are not replayed, however often it runs", async () => {
    const w = await world({ WRITEBACK_NOTIFICATIONS: "false" });
    const since = w.app.writeback.events.watermark("history")!;
    w.pms.watch.pastViewing(w.ours[0]!.ratingKey, since - 86_400);
    w.pms.watch.pastViewing(w.ours[1]!.ratingKey, since - 1);
    w.pms.watch.view(w.ours[2]!.ratingKey);
    await w.app.writeback.catchUp.run();
    await w.app.writeback.catchUp.run();
    expect(w.plays().map((e) => e.event.ratingKey)).toEqual([w.ours[2]!.ratingKey]);
  });

  test("hostile input on /hooks/plex: a clear error, nothing stored", async () => {
    const w = await world({ WRITEBACK_NOTIFICATIONS: "false" });
    const ours = `${IDENTIFIER}://movie/1`;
    const send = (url: string, body: RequestInit["body"], headers: Record<string, string> = {}) =>
      fetch(url, { method: "POST", body, headers });
    const errorOf = async (res: Response) => ({ status: res.status, ...((await res.json()) as any).error });

    const noToken = await errorOf(
      await send(`${w.app.url}/hooks/plex`, multipart({ payload: payloadOf("media.scrobble", ours) })),
    );
    expect(noToken).toMatchObject({ status: 401, code: "bad_token" });
    const wrong = await send(
      `${w.app.url}/hooks/plex?token=nope`,
      multipart({ payload: payloadOf("media.scrobble", ours) }),
    );
    expect(wrong.status).toBe(401);
    expect(JSON.stringify(await wrong.json())).not.toContain(HOOK_TOKEN);

    expect(
      await errorOf(await send(w.hook(), payloadOf("media.scrobble", ours), { "content-type": "application/json" })),
    ).toMatchObject({
      status: 400,
      code: "not_multipart",
    });
    expect(
      await errorOf(
        await send(w.hook(), "--xx\r\ngarbage without headers", { "content-type": "multipart/form-data; boundary=xx" }),
      ),
    ).toMatchObject({ status: 400 });
    expect(await errorOf(await send(w.hook(), multipart({ other: "x" })))).toMatchObject({
      status: 400,
      code: "no_payload",
    });
    expect(await errorOf(await send(w.hook(), multipart({ payload: "{not json" })))).toMatchObject({
      status: 400,
      code: "bad_payload",
    });
    const shape = await errorOf(
      await send(
        w.hook(),
        multipart({
          payload: JSON.stringify({ event: "media.scrobble", Account: { id: 1 }, Metadata: { guid: ours } }),
        }),
      ),
    );
    expect(shape).toMatchObject({ status: 400, code: "bad_payload" });
    expect(shape.message).toContain("ratingKey");

    // A huge part is refused before it is read whole: the body limit (1 MiB) stops the read.
    const huge = await send(
      w.hook(),
      multipart({
        payload: payloadOf("media.scrobble", ours),
        thumb: new Blob([new Uint8Array(3 * 1024 * 1024)], { type: "image/jpeg" }),
      }),
    );
    expect(huge.status).toBe(413);
    // Sent in chunks without a Content-Length: the read stops at the limit.
    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    const stream = new ReadableStream({
      pull(c) {
        if (sent++ > 64) c.close();
        else c.enqueue(chunk);
      },
    });
    const chunked = await send(w.hook(), stream, { "content-type": "multipart/form-data; boundary=zz" });
    expect(chunked.status).toBe(413);
    expect(sent).toBeLessThan(40);
    const bigPayload = await send(
      w.hook(),
      multipart({ payload: payloadOf("media.scrobble", ours, { pad: "x".repeat(200 * 1024) }) }),
    );
    expect(await errorOf(bigPayload)).toMatchObject({ status: 413 });

    // Not ours, or nothing to write: 200, ignored, nothing stored.
    const foreign = await send(
      w.hook(),
      multipart({ payload: payloadOf("media.scrobble", "plex://movie/5d776b59ad5437001f79c6f8") }),
    );
    expect(foreign.status).toBe(200);
    expect(((await foreign.json()) as any).ignored).toContain("not one of ours");
    const show = await send(
      w.hook(),
      multipart({
        payload: payloadOf("media.scrobble", `${IDENTIFIER}.tv://show/st1`, {
          Metadata: { ratingKey: "9", guid: `${IDENTIFIER}.tv://show/st1`, type: "show" },
        }),
      }),
    );
    expect(((await show.json()) as any).ignored).toBeDefined();
    const library = await send(
      w.hook(),
      multipart({ payload: JSON.stringify({ event: "library.new", Account: { id: 1 } }) }),
    );
    expect(library.status).toBe(200);
    expect(w.app.writeback.events.size()).toBe(0);

    // And the same, well formed, is stored (the route works): one row.
    const good = await send(w.hook(), multipart({ payload: payloadOf("media.scrobble", ours) }));
    expect(((await good.json()) as any).recorded).toBe(1);
    expect(w.app.writeback.events.size()).toBe(1);
  });

  test("the webhook's token never reaches the log (a logger told no secrets sees none)", async () => {
    const lines: string[] = [];
    const log = createLogger({ level: "debug", format: "json", write: (l) => lines.push(l) });
    const w = await world({ WRITEBACK_NOTIFICATIONS: "false" }, log);
    w.pms.watch.webhooks = [w.hook()];
    w.pms.watch.view(w.ours[0]!.ratingKey);
    await w.pms.watch.idle();
    await fetch(`${w.app.url}/hooks/plex?token=${HOOK_TOKEN}x`, { method: "POST", body: multipart({ payload: "{}" }) });
    expect(lines.some((l) => l.includes("/hooks/plex"))).toBe(true);
    expect(lines.filter((l) => l.includes(HOOK_TOKEN))).toEqual([]);
  });

  test("write-back off: the Plex webhook answers 404 saying how to turn it on", async () => {
    const w = await world({ WRITEBACK_ENABLED: "false" });
    const res = await fetch(w.hook(), {
      method: "POST",
      body: multipart({ payload: payloadOf("media.scrobble", `${IDENTIFIER}://movie/1`) }),
    });
    expect(res.status).toBe(404);
    expect(((await res.json()) as any).error.message).toContain("WRITEBACK_ENABLED");
    expect(w.app.writeback.events.size()).toBe(0);
  });
});
