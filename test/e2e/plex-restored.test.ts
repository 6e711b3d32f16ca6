/**
 * A Plex restored from an older backup (issue 27, part 4): its items show what they showed
 * 1,000 edits ago while our records say every edit was delivered. The service finds it by
 * reading back what Plex changed last (gaps/plex-rewind.ts) and heals every item with a
 * reconcile, with nobody doing anything: 0 left stale. Real service, real SQLite, the simulators;
 * the schedule on a fake clock.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { plexPathFor } from "../../src/demo.ts";
import { rewindOf } from "../../src/gaps/plex-rewind.ts";
import { IDENTIFIER, testEnv, waitFor } from "../helpers.ts";

let stash: StashSim;
let pms: PmsSim;
let app: App;
let clock = Date.parse("2026-05-01T12:00:00Z");

const itemOf = (sceneId: string) => [...pms.items.values()].find((i) => i.guid === `${IDENTIFIER}://movie/${sceneId}`);
const PREFIX = `${IDENTIFIER}://movie/`;
/** Plex items of our scenes that do not show their scene's title in Stash now (a scene with two files has two). */
const staleItems = () =>
  [...pms.items.values()].filter((i) => {
    const scene = i.guid.startsWith(PREFIX) ? stash.library.scenes.get(i.guid.slice(PREFIX.length)) : undefined;
    return scene?.title && i.title !== scene.title;
  });
const drained = () => waitFor(() => app.queue.pending() === 0, 30_000);

beforeAll(async () => {
  stash = new StashSim({ scenes: 300, seed: 27 }).start();
  pms = new PmsSim().start();
  const files = [...stash.library.scenes.values()].flatMap((s) => s.files.map((f) => plexPathFor(f.path)));
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
    files,
  );
  const env = testEnv(stash, pms, {
    SYNC_RETRY_BASE_SECONDS: "0.05",
    SYNC_SWEEP_SECONDS: "1",
    SYNC_DRAIN_PER_SECOND: "2000",
    SYNC_CONFIRM_SECONDS: "5",
    RECONCILE_EVERY_HOURS: "0",
  });
  app = createApp(loadConfig(env, undefined), { log: silentLogger, schedulerClock: () => clock });
  await app.start(0, "127.0.0.1");
  pms.providerUrl = app.url!;
  await app.stashIndex.refresh();
  await pms.scan("1", { concurrency: 16 });
  await app.refreshPlexIndex();
  await app.poller.poll(); // the poller's bookmark: Stash as it is now
}, 120_000);
afterAll(async () => {
  await app?.stop();
  await pms?.stop();
  await stash?.stop();
});

describe("a Plex restored from a backup taken 1,000 edits ago", () => {
  test("is found by itself and every item healed: 0 left stale, and no second heal after", async () => {
    const backup = pms.snapshot();
    // Plex's clock moves on an hour (its items' updatedAt), as a week would.
    pms.clockOffsetMs = 3600_000;
    const scenes = [...stash.library.scenes.values()].filter((s) => itemOf(s.id));
    // 1,000 edits in four rounds, each polled and delivered; some scenes edited many times.
    for (let round = 0; round < 4; round++) {
      for (let i = 0; i < 250; i++) {
        const n = round * 250 + i;
        const scene = scenes[(n * 7) % scenes.length]!;
        stash.library.update(scene.id, { title: `Edit ${n} of scene ${scene.id}` });
      }
      await app.poller.poll();
      expect(await drained()).toBe(true);
    }
    expect(staleItems()).toEqual([]);
    await app.refreshPlexIndex(); // the index job: Plex's newer updatedAt seen

    // Plex restarts on last week's database.
    pms.restore(backup);
    const stale = staleItems().length;
    expect(stale).toBeGreaterThan(200);
    const runsBefore = app.reconciler.reports.last()?.id ?? 0;

    // The watch runs on its schedule (a minute after start, then every 5 minutes): nobody asks.
    clock += 61_000;
    await app.scheduler.tick();
    const job = app.scheduler.list().find((j) => j.id === "plex-rewind")!;
    expect(job.lastError).toBeNull();
    const run = app.reconciler.reports.last()!;
    expect(run.id).toBeGreaterThan(runsBefore);
    expect(run.trigger).toBe("plex restored");
    expect(run.counts.stale).toBe(stale);
    expect(await drained()).toBe(true);
    expect(await waitFor(() => staleItems().length === 0, 30_000)).toBe(true);

    // Healed: a reconcile finds nothing stale, and the next look sees no rewind (no heal again).
    const check = await app.reconciler.run({ heal: [], kinds: ["stale"], trigger: "test" });
    expect(check.gaps).toEqual([]);
    await app.refreshPlexIndex();
    const runs = app.reconciler.reports.last()!.id;
    clock += 301_000;
    await app.scheduler.tick();
    expect(app.reconciler.reports.last()!.id).toBe(runs);
  }, 120_000);
});

describe("what counts as Plex going back", () => {
  const seen = [1, 2, 3, 4, 5, 6].map((k) => ({ rating_key: String(k), updated_at: 1000 + k }));
  const shown = (f: (k: number) => number | undefined) =>
    new Map(
      seen.flatMap((s) =>
        f(Number(s.rating_key)) === undefined ? [] : [[s.rating_key, f(Number(s.rating_key))!] as const],
      ),
    );

  test("an item older than we saw it is a rewind; newer or equal is Plex going on", () => {
    expect(
      rewindOf(
        seen,
        shown((k) => 1000 + k),
      ),
    ).toBeNull();
    expect(
      rewindOf(
        seen,
        shown((k) => 2000 + k),
      ),
    ).toBeNull();
    expect(
      rewindOf(
        seen,
        shown((k) => (k === 3 ? 900 : 1000 + k)),
      ),
    ).toMatchObject({ older: 1, gone: 0, sampled: 6 });
  });

  test("one item gone is a deletion; most of them gone at once is a rewind", () => {
    expect(
      rewindOf(
        seen,
        shown((k) => (k === 2 ? undefined : 1000 + k)),
      ),
    ).toBeNull();
    expect(
      rewindOf(
        seen,
        shown((k) => (k > 2 ? undefined : 1000 + k)),
      ),
    ).toMatchObject({ gone: 4 });
  });
});
