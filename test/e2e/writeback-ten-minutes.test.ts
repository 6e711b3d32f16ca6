/**
 * Issue 21's "over 10 minutes after a rating, at most one sceneUpdate and no rating sent back to
 * Plex", over ten simulated minutes: the real app against the simulators, its schedule driven by a
 * fake clock (`scheduler.tick()`), so every scheduled job does its real work as often as it would
 * in ten minutes — polls of Stash, the push's sweeps, the Plex index, write-back passes and the
 * history catch-up (which sees the same rating again in Plex's listing), and a reconcile.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { plexFilesFor } from "../../src/demo.ts";
import { IDENTIFIER, testEnv, waitFor } from "../helpers.ts";

const HOOK_TOKEN = "plex-hook-token-ten";
let stash: StashSim;
let pms: PmsSim;
let app: App;
let clock = Date.now();

beforeAll(async () => {
  stash = new StashSim({ scenes: 60, seed: 3 }).start();
  pms = new PmsSim().start();
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
    plexFilesFor(stash),
  );
  const config = loadConfig(
    testEnv(stash, pms, {
      WRITEBACK_ENABLED: "true",
      WRITEBACK_WEBHOOK_TOKEN: HOOK_TOKEN,
      WRITEBACK_NOTIFICATIONS: "false",
      WRITEBACK_CATCH_UP_SECONDS: "60",
      PROVIDER_RATING_AS: "user",
      SYNC_POLL_SECONDS: "10",
      SYNC_SWEEP_SECONDS: "120",
      RECONCILE_EVERY_HOURS: "1",
      RECONCILE_AFTER_START_MINUTES: "5",
    }),
    undefined,
  );
  app = createApp(config, { log: silentLogger, schedulerClock: () => clock });
  await app.start(0, "127.0.0.1");
  pms.providerUrl = app.url!;
  await pms.scan("1", { concurrency: 8 });
  await app.stashIndex.refresh();
  await app.plexIndex.refresh(await app.plex.sections());
});
afterAll(async () => {
  await app.stop();
  await pms.stop();
  await stash.stop();
});

test("a rating made in Plex: one sceneUpdate and no rating sent back to Plex over the ten minutes that follow (every job runs)", async () => {
  expect(await waitFor(() => app.scheduler.list().every((j) => !j.running))).toBe(true);
  const item = [...pms.items.values()].find((i) => i.guid === `${IDENTIFIER}://movie/24`)!;
  pms.watch.webhooks = [`${app.url}/hooks/plex?token=${HOOK_TOKEN}`];
  const since = Date.now();
  pms.watch.rate(item.ratingKey, 8);
  expect(await waitFor(() => stash.library.scenes.get("24")!.rating100 === 80, 30_000)).toBe(true);

  const runs = (id: string) => app.scheduler.list().find((j) => j.id === id)?.runs ?? 0;
  const before = Object.fromEntries(
    ["poll", "sweep", "writeback", "writeback-catch-up", "reconcile"].map((id) => [id, runs(id)]),
  );
  const startedAt = clock;
  for (let s = 5; s <= 600; s += 5) {
    clock = startedAt + s * 1000;
    await app.scheduler.tick();
    // Let what a run started (a push, Plex's fetch of the item) finish before the next step.
    await pms.idle();
    await waitFor(() => app.scheduler.list().every((j) => !j.running), 5_000, 5);
  }
  // Every job that could bounce the rating ran, as often as in ten minutes.
  expect(runs("poll") - before.poll!).toBeGreaterThanOrEqual(59);
  expect(runs("sweep") - before.sweep!).toBeGreaterThanOrEqual(4);
  expect(runs("writeback") - before.writeback!).toBeGreaterThanOrEqual(119);
  expect(runs("writeback-catch-up") - before["writeback-catch-up"]!).toBeGreaterThanOrEqual(9);
  expect(runs("reconcile") - before.reconcile!).toBeGreaterThanOrEqual(1);

  // Stash's rating changed once; Plex was never sent a rating; both still agree.
  expect(stash.library.writeCount("sceneUpdate")).toBe(1);
  // (The reconcile heals other scenes' ratings Plex never had: those are set, this one's is not.)
  expect(pms.calls.filter((c) => c.path === "/:/rate" && c.at > since).length).toBeGreaterThan(0);
  expect(pms.calls.filter((c) => c.path === "/:/rate" && c.ratingKey === item.ratingKey)).toHaveLength(0);
  expect(stash.library.scenes.get("24")!.rating100).toBe(80);
  expect(pms.items.get(item.ratingKey)!.userRating).toBe(8);
  // Stash's change did come back to us (its push reached Plex as a refresh): nothing bounced off it.
  expect(pms.calls.some((c) => c.ratingKey === item.ratingKey && c.path.endsWith("/refresh") && c.at > since)).toBe(
    true,
  );
}, 120_000);
