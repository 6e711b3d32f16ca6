/**
 * Upgrade with nothing lost (issue 19, item 5). test/fixtures/v0-pending.db was written by the
 * previous release's own code (test/fixtures/make-v0-db.ts): every table keyed by a bare scene
 * id, 25 jobs pending behind a down Plex, dead letters, deliveries, history, an outage and a
 * reconcile report. The new service starts on a copy of it, against simulators with the same
 * scenes, and must migrate it in place once and deliver every pending change.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync } from "node:fs";
import { join } from "node:path";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { plexFilesFor } from "../../src/demo.ts";
import { DATABASE_FILE, openStore, SCHEMA_VERSION } from "../../src/store/db.ts";
import { DEFAULT_INSTANCE_ID, parseRefKey, sceneRef } from "../../src/domain/ref.ts";
import { adminGet, IDENTIFIER, scanThroughScratchProvider, tempDir, testEnv, waitFor } from "../helpers.ts";

const FIXTURE = join(import.meta.dir, "../fixtures/v0-pending.db");
const FAST = {
  SYNC_RETRY_BASE_SECONDS: "0.05",
  SYNC_RETRY_CAP_SECONDS: "0.4",
  SYNC_SWEEP_SECONDS: "1",
  SYNC_DRAIN_PER_SECOND: "2000",
  SYNC_POLL_SECONDS: "1",
};
const scene = (id: string) => sceneRef(DEFAULT_INSTANCE_ID, id);

/** What the previous release left in the fixture, read straight from its own tables. */
function readOld() {
  // From a copy: even a read-only open of a WAL database leaves -wal and -shm files beside it.
  const copy = join(tempDir(), "v0.db");
  copyFileSync(FIXTURE, copy);
  const db = new Database(copy, { readonly: true });
  const ids = (sql: string) => (db.query(sql).all() as { scene_id: string }[]).map((r) => r.scene_id);
  const old = {
    version: (db.query("PRAGMA user_version").get() as { user_version: number }).user_version,
    pending: ids("SELECT scene_id FROM jobs ORDER BY CAST(scene_id AS INTEGER)"),
    dead: db.query("SELECT * FROM dead_letters ORDER BY scene_id").all() as {
      scene_id: string;
      last_error: string;
      attempts: number;
      died_at: number;
    }[],
    delivered: db.query("SELECT * FROM delivered ORDER BY scene_id").all() as {
      scene_id: string;
      at: number;
      rating_key: string | null;
    }[],
    history: db.query("SELECT scene_id, at, event, detail FROM job_history ORDER BY id").all() as {
      scene_id: string;
      at: number;
      event: string;
      detail: string | null;
    }[],
    outages: db.query("SELECT * FROM outages").all() as { id: number; started_at: number }[],
    guids: db.query("SELECT rating_key, guid FROM plex_items").all() as { rating_key: string; guid: string }[],
    watermark: (db.query("SELECT value FROM meta WHERE key = 'pollWatermark'").get() as { value: string }).value,
    runs: (db.query("SELECT COUNT(*) AS n FROM reconcile_runs").get() as { n: number }).n,
  };
  db.close();
  return old;
}

describe("upgrade from the previous release's database", () => {
  const old = readOld();
  let stash: StashSim;
  let pms: PmsSim;
  let app: App;
  let dataDir: string;
  const fetched = new Set<string>();
  let breakerAtStart: string | undefined;

  beforeAll(async () => {
    dataDir = tempDir();
    copyFileSync(FIXTURE, join(dataDir, DATABASE_FILE));
    stash = new StashSim({ scenes: 200, seed: 3 }).start();
    pms = new PmsSim().start();
    pms.addSection(
      { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
      plexFilesFor(stash),
    );
    // The library Plex had before, its GUIDs the new code's.
    await scanThroughScratchProvider(stash, pms);
    // Plex is down when the new release starts on the old database, as it was when the old one stopped.
    await pms.stop();
    app = createApp(loadConfig(testEnv(stash, pms, { ...FAST, DATA_DIR: dataDir }), undefined), { log: silentLogger });
    await app.start(0, "127.0.0.1");
    pms.providerUrl = app.url!;
    pms.pullHooks.after = (item, status) => void (status === 200 && fetched.add(item.guid));
    breakerAtStart = app.breaker.state;
    await Bun.sleep(300); // a few probes of the down Plex
    pms.start();
  }, 30_000);

  afterAll(async () => {
    await app?.stop();
    await pms?.stop();
    await stash?.stop();
  });

  test("the fixture is the previous release's: bare scene ids, pending jobs, dead letters, deliveries, an outage", () => {
    expect(old.version).toBe(5);
    expect(old.pending).toHaveLength(25);
    expect(old.dead.map((d) => d.scene_id)).toEqual(["12", "13"]);
    expect(old.delivered.length).toBeGreaterThanOrEqual(5);
    expect(old.outages).toHaveLength(1);
    expect(old.runs).toBe(1);
  });

  test("every pending job of the old database is delivered: PMS fetched each scene", async () => {
    const allDelivered = () => old.pending.every((id) => app.queue.delivery(scene(id)) !== undefined);
    expect(await waitFor(async () => (await pms.idle(), allDelivered() && app.queue.pending() === 0), 30_000)).toBe(
      true,
    );

    for (const id of old.pending) {
      expect(fetched.has(`${IDENTIFIER}://movie/${id}`)).toBe(true);
      // Confirmed by PMS's fetch, or (a scene of several files, fetched from one URL) by reading its items back.
      expect(app.queue.history(scene(id)).some((h) => h.event === "fetched" || h.event === "read back")).toBe(true);
    }
  }, 40_000);

  test("dead letters, deliveries and history are still shown for the same scenes", async () => {
    const dead = (await (await adminGet(`${app.url}/api/dead-letters`)).json()) as any;
    expect(dead.items.map((d: any) => d.sceneId).sort()).toEqual(["12", "13"]);
    for (const d of old.dead) {
      expect(dead.items.find((x: any) => x.sceneId === d.scene_id)).toMatchObject({
        error: d.last_error,
        attempts: d.attempts,
        deadAt: d.died_at,
      });
    }
    for (const d of old.delivered) {
      const shown = (await (await adminGet(`${app.url}/api/scenes/${d.scene_id}`)).json()) as any;
      expect(shown.lastDelivery.at).toBeGreaterThanOrEqual(d.at);
    }
    // Every event the old release recorded is still in its scene's timeline, in order, first.
    const byScene = Map.groupBy(old.history, (h) => h.scene_id);
    for (const [id, events] of byScene) {
      const shown = (await (await adminGet(`${app.url}/api/scenes/${id}`)).json()) as any;
      expect(shown.history.slice(0, events.length)).toEqual(
        events.map(({ at, event, detail }) => ({ at, event, detail })),
      );
    }
  });

  test("the outage, the open breaker, the reconcile report and the poller's bookmark carry over", async () => {
    // Open at start: a restart during an outage probes Plex instead of pushing every job at it.
    expect(breakerAtStart).toBe("open");
    const status = (await (await adminGet(`${app.url}/api/status`)).json()) as any;
    expect(status.outages.map((o: any) => o.started_at)).toContain(old.outages[0]!.started_at);
    expect(status.outages.find((o: any) => o.started_at === old.outages[0]!.started_at).instance).toBe(
      DEFAULT_INSTANCE_ID,
    );
    const run = app.reconciler.reports.lastDone()!;
    const gaps = app.reconciler.reports.gaps(run.id, "missing-in-plex", 0, 10);
    expect(gaps.map((g) => [g.instance, g.sceneId]).sort()).toEqual([
      [DEFAULT_INSTANCE_ID, "12"],
      [DEFAULT_INSTANCE_ID, "13"],
    ]);
    // The watermark was kept, not reset to "now" (which would skip changes made meanwhile).
    expect(app.poller.watermark).toBe(old.watermark);
  });

  test("metrics name the Stash instance (stash_instance, not Prometheus's own instance label)", async () => {
    const text = await (await fetch(`${app.url}/metrics`)).text();
    expect(text).toContain('stash2plex_queue_jobs{stash_instance="default",state="dead"} 2\n');
    expect(text).toContain('stash2plex_queue_jobs{stash_instance="default",state="pending"} 0\n');
    const refreshed = /^stash2plex_pushes_total\{stash_instance="default",result="refreshed"\} (\d+)$/m.exec(text);
    expect(Number(refreshed?.[1])).toBeGreaterThanOrEqual(old.pending.length);
    expect(text).toMatch(/^stash2plex_push_latency_seconds_count\{stash_instance="default"\} [1-9]/m);
  });

  test("GUIDs and the provider identifier are the same: Plex re-matches nothing", async () => {
    const root = (await (await fetch(`${app.url}/`)).json()) as any;
    expect(root.MediaProvider.identifier).toBe(IDENTIFIER);
    for (const { rating_key, guid } of old.guids) expect(pms.items.get(rating_key)?.guid).toBe(guid);
  });

  test("a new reconcile's gaps name their scene's instance, as the migrated ones do", async () => {
    for (const item of [...pms.items.values()]) if (item.guid.endsWith("/movie/100")) pms.items.delete(item.ratingKey);
    const result = await app.reconciler.run({ heal: [], trigger: "api" });
    const gaps = app.reconciler.reports.gaps(result.run.id, undefined, 0, 1000).filter((g) => g.sceneId);
    expect(gaps.map((g) => g.sceneId)).toContain("100");
    expect(gaps.filter((g) => g.instance !== DEFAULT_INSTANCE_ID)).toEqual([]);
  });

  test("the migration ran once: reopening changes nothing, every key is a reference", async () => {
    await app.stop();
    const store = openStore(dataDir);
    try {
      expect((store.db.query("PRAGMA user_version").get() as { user_version: number }).user_version).toBe(
        SCHEMA_VERSION,
      );
      for (const table of ["jobs", "job_history", "dead_letters", "delivered", "job_items"]) {
        const keys = (store.db.query(`SELECT ref FROM ${table}`).all() as { ref: string }[]).map((r) => r.ref);
        expect(keys.filter((k) => parseRefKey(k) === null)).toEqual([]);
      }
      expect(store.meta.get("pollWatermark")).toBeUndefined();
      expect(store.meta.get(`pollWatermark:${DEFAULT_INSTANCE_ID}`)).toBe(old.watermark);
    } finally {
      store.close();
    }
  });
});
