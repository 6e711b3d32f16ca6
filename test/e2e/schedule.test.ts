/**
 * The service's scheduled jobs over three simulated hours: the real app against the simulators,
 * its schedule driven by a fake clock (`scheduler.tick()`), each job's real work done each time.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { plexFilesFor } from "../../src/demo.ts";
import { adminGet, IDENTIFIER, testEnv, waitFor } from "../helpers.ts";

let stash: StashSim;
let pms: PmsSim;
let app: App;
let clock = Date.now();

beforeAll(async () => {
  stash = new StashSim({ scenes: 60, seed: 5 }).start();
  pms = new PmsSim().start();
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
    plexFilesFor(stash),
  );
  const config = loadConfig(
    testEnv(stash, pms, { RECONCILE_EVERY_HOURS: "1", RECONCILE_AFTER_START_MINUTES: "0", SYNC_SWEEP_SECONDS: "30" }),
    undefined,
  );
  app = createApp(config, { log: silentLogger, schedulerClock: () => clock });
  await app.start(0, "127.0.0.1");
  pms.providerUrl = app.url!;
});
afterAll(async () => {
  await app.stop();
  await pms.stop();
  await stash.stop();
});

const job = (id: string) => app.scheduler.list().find((j) => j.id === id)!;

test("after 3 simulated hours the Stash index (60 s), the Plex index (5 min) and the reconcile (1 h) each ran as often as they should", async () => {
  const startedAt = clock;
  // The runs start() began (both indexes) end first: the fake clock does not wait for real I/O.
  expect(await waitFor(() => app.scheduler.list().every((j) => !j.running))).toBe(true);
  let edited = false;
  for (let s = 10; s <= 3 * 3600; s += 10) {
    clock = startedAt + s * 1000;
    await app.scheduler.tick();
    // An edit in Stash six minutes in reaches the index by its next refresh (it used to wait for a restart).
    if (s === 360) {
      stash.library.update("7", { title: "Retitled six minutes in" });
      edited = true;
    }
    if (edited && s === 430) expect(app.stashIndex.scene("7")?.title).toBe("Retitled six minutes in");
  }
  // At start, then every interval (±1: the ten-second steps).
  expect(Math.abs(job("stash-index").runs - 181)).toBeLessThanOrEqual(1);
  expect(Math.abs(job("plex-index").runs - 37)).toBeLessThanOrEqual(1);
  expect(job("reconcile").runs).toBe(3);
  expect(Math.abs(job("sweep").runs - 361)).toBeLessThanOrEqual(1);
  for (const id of ["stash-index", "plex-index", "reconcile", "sweep"]) {
    expect(job(id).lastError).toBeNull();
    expect(job(id).lastSuccessAt).toBe(job(id).lastRunAt);
  }
  expect(app.reconciler.reports.last()?.trigger).toBe("schedule");
  // The status API and the Tasks page say when each job runs next, from the scheduler's own state.
  const status = (await (await adminGet(`${app.url}/api/status`)).json()) as {
    jobs: { id: string; nextRunAt: number }[];
  };
  expect(status.jobs.find((j) => j.id === "reconcile")!.nextRunAt).toBe(
    job("reconcile").lastRunAt! - (job("reconcile").lastDurationMs ?? 0) + 3_600_000,
  );
  const page = await (await adminGet(`${app.url}/ui/jobs`)).text();
  expect(page).toContain("next run");
  expect(page).toMatch(/Refresh the index of Plex items[\s\S]*?in [\d.]+ (s|min|h)/);
  // Each interval in its own whole unit: the reconcile "1 h", the Plex index "5 min", the Stash index "1 min", the sweep "30 s".
  const every = (name: RegExp) => new RegExp(`${name.source}</td><td>([^<]+)</td>`).exec(page)?.[1];
  expect(every(/Refresh the index of Plex items/)).toBe("5 min");
  expect([every(/Refresh the index of Stash files/), every(/Reconcile Stash and Plex \(find and heal gaps\)/)]).toEqual(
    ["1 min", "1 h"],
  );
}, 60_000);
