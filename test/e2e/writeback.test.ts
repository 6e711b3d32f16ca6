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
import { createLogger } from "../../src/log.ts";
import { createApplier } from "../../src/writeback/apply.ts";
import type { PlexEvent } from "../../src/writeback/types.ts";
import { DEFAULT_INSTANCE_ID, sceneRef } from "../../src/domain/ref.ts";
import { tempDir } from "../helpers.ts";

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
