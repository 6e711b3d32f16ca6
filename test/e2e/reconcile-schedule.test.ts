/**
 * The reconcile on its schedule and after start-up (shown in /api/status), `stash2plex sync`
 * through the real process, and asking Stash to scan what only Plex has (opt-in).
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { MAIN, post, startWorld, waitFor, type World, adminGet, adminAuth, scene } from "../helpers.ts";

let w: World;

const status = async () => (await (await adminGet(`${w.app.url}/api/status`)).json()) as any;

async function cli(...args: string[]) {
  const env = {
    PATH: process.env.PATH ?? "",
    STASH_URL: w.stash.url,
    PLEX_URL: w.pms.url,
    PLEX_TOKEN: w.pms.token,
    DATA_DIR: w.app.config.dataDir,
    PATHS_RULES: JSON.stringify(w.app.config.paths.rules),
  };
  const proc = Bun.spawn([process.execPath, MAIN, ...args], { env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([
    new Response(proc.stdout).text(),
    new Response(proc.stderr).text(),
    proc.exited,
  ]);
  return { out, err, code };
}

beforeAll(async () => {
  // Plex has scanned nothing yet: the first reconcile finds every scene missing and asks Plex to scan.
  w = await startWorld({
    seed: { scenes: 150 },
    env: {
      RECONCILE_AFTER_START_MINUTES: "0.01",
      RECONCILE_EVERY_HOURS: "0.001",
      RECONCILE_SCAN_STASH: "true",
      SYNC_SWEEP_SECONDS: "1",
      SYNC_RETRY_BASE_SECONDS: "0.05",
      SYNC_DRAIN_PER_SECOND: "2000",
    },
  });
});
afterAll(() => w.close());

describe("reconcile on a schedule", () => {
  test("a run shortly after start-up heals what is missing; the next comes on its interval; /api/status shows the last result", async () => {
    expect(await waitFor(async () => (await status()).reconcile?.last?.trigger === "schedule", 10_000, 100)).toBe(true);
    const first = (await status()).reconcile.last;
    expect(first.status).toBe("done");
    expect(first.counts["missing-in-plex"]).toBeGreaterThan(100);
    expect(first.healed["missing-in-plex"]).toBe(first.counts["missing-in-plex"]);
    // Plex scans the folders it was asked to: every scene gets its item.
    expect(
      await waitFor(
        async () => {
          await w.pms.idle();
          return w.pms.items.size >= w.files.length - 1; // all but the one file Stash lacks (no scene asks for its folder)
        },
        20_000,
        100,
      ),
    ).toBe(true);
    // The interval (3.6 s) brings the next run, which finds nothing missing any more.
    expect(await waitFor(async () => (await status()).reconcile.last.id > first.id, 15_000, 200)).toBe(true);
    const second = (await status()).reconcile.last;
    expect(second.counts["missing-in-plex"] ?? 0).toBe(0);
    const job = (await status()).jobs.find((j: any) => j.id === "reconcile");
    expect(job.lastRunAt).toBeGreaterThan(0);
    expect(job.lastError).toBeNull();
  }, 40_000);
});

describe("stash2plex sync (the real process, beside the running service)", () => {
  test("--scene, --since, --all queue pushes the service makes; a bad scope is a usage error", async () => {
    await w.app.plexIndex.refresh(await w.app.plex.sections());
    const one = await cli("sync", "--scene", "5", "6");
    expect(one.code).toBe(0);
    expect(one.out).toContain("queued 2 scene(s) (2 chosen scene(s))");
    expect(
      await waitFor(
        () => ["5", "6"].every((id) => w.app.queue.history(scene(id)).some((h) => h.event === "delivered")),
        15_000,
        100,
      ),
    ).toBe(true);

    for (const id of ["7", "8", "9"]) w.stash.library.update(id, { title: `Changed ${id}` });
    const recent = await cli("sync", "--since", "1h");
    expect(recent.out).toContain("queued 3 scene(s)");
    const all = await cli("sync", "--all");
    expect(all.out).toMatch(/queued \d+ scene\(s\) \(all scenes\)/);
    const bad = await cli("sync", "--since", "soon");
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('"soon" is not a span like 30m, 12h or 7d');
    expect((await post(`${w.app.url}/api/sync`, { all: true, since: "7d" }, adminAuth)).status).toBe(400);
    expect((await post(`${w.app.url}/api/sync`, { all: true })).status).toBe(401);
  }, 30_000);
});

describe("files only Plex has", () => {
  test("with RECONCILE_SCAN_STASH, healing unknown-to-stash asks Stash to scan their folder (mapped to Stash's path)", async () => {
    w.pms.addItem("1", "/media/Scenes/New Drop/first.mp4");
    w.stash.library.unscanned.push("/data/stash/New Drop/first.mp4");
    const before = w.stash.library.scenes.size;
    const res = await post(
      `${w.app.url}/api/reconcile`,
      { heal: ["unknown-to-stash"], kinds: ["unknown-to-stash"] },
      adminAuth,
    );
    expect(res.status).toBe(202);
    expect(
      await waitFor(() => w.stash.library.scansRequested.some((p) => p.includes("/data/stash/New Drop")), 10_000, 50),
    ).toBe(true);
    expect(w.stash.library.scenes.size).toBe(before + 1);
    expect(w.stash.library.sceneByPath("/data/stash/New Drop/first.mp4")).toBeDefined();
  }, 20_000);
});
