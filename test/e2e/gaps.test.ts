/**
 * Gaps end to end: 5,000 scenes scanned into the PMS simulator through the real provider,
 * then 30 disagreements of every kind planted on either side. A reconcile (through the real
 * process's CLI and through the API) reports exactly those; healing goes through the queue,
 * Plex's match and scan; a second reconcile finds none of what was healed.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim, type SimItem } from "../../sim/plex/server.ts";
import { parsedTitle } from "../../sim/plex/scan.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { plexPathFor } from "../../src/demo.ts";
import type { Gap, GapKind } from "../../src/domain/gaps.ts";
import { IDENTIFIER, runMain, post, testEnv, waitFor, adminGet, adminAuth, scene } from "../helpers.ts";
import { undocumentedCalls } from "../conformance/shared.ts";

let stash: StashSim;
let pms: PmsSim;
let app: App;
let env: Record<string, string>;
const planted = new Map<GapKind, Set<string>>();
const plant = (kind: GapKind, key: string) => planted.set(kind, (planted.get(kind) ?? new Set()).add(key));

const itemOf = (sceneId: string) => [...pms.items.values()].find((i) => i.guid === `${IDENTIFIER}://movie/${sceneId}`)!;
/** What identifies a gap in this test: the scene for scene-side kinds, the Plex item for the others. */
const keyOf = (g: Gap) =>
  g.kind === "missing-in-plex" || g.kind === "stash-empty" || g.kind === "stale" || g.kind === "empty"
    ? g.sceneId!
    : g.ratingKey!;
const byKind = (gaps: Gap[]) => {
  const out = new Map<GapKind, Set<string>>();
  for (const g of gaps) out.set(g.kind, (out.get(g.kind) ?? new Set()).add(keyOf(g)));
  return out;
};
const sorted = (m: Map<GapKind, Set<string>>) => Object.fromEntries([...m].map(([k, v]) => [k, [...v].sort()]).sort());

const cli = (...args: string[]) => runMain(env, args);

beforeAll(async () => {
  stash = new StashSim({ scenes: 5000, seed: 21 }).start();
  pms = new PmsSim().start();
  const files = [...stash.library.scenes.values()].flatMap((s) => s.files.map((f) => plexPathFor(f.path)));
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
    files,
  );
  env = testEnv(stash, pms, {
    SYNC_RETRY_BASE_SECONDS: "0.05",
    SYNC_SWEEP_SECONDS: "1",
    SYNC_DRAIN_PER_SECOND: "2000",
    SYNC_CONFIRM_SECONDS: "5",
  });
  app = createApp(loadConfig(env, undefined), { log: silentLogger });
  await app.start(0, "127.0.0.1");
  pms.providerUrl = app.url!;
  await app.stashIndex.refresh();
  await pms.scan("1", { concurrency: 16 });
  // As the index job does: the items the scan bound to our scenes get their artwork uploaded.
  await app.refreshPlexIndex();
}, 120_000);
afterAll(async () => {
  await app.stop();
  await pms.stop();
  await stash.stop();
});

describe("reconcile: find and heal what Plex and Stash disagree on", () => {
  test("a library where nothing drifted: no gap, and a healing run sends no push at all", async () => {
    const callsBefore = pms.calls.filter((c) => c.method !== "GET").length;
    const { run, gaps } = await app.reconciler.run({ heal: app.manualHeal, trigger: "test" });
    expect(gaps.map((g) => g.reason).slice(0, 5)).toEqual([]);
    expect(run.scenes).toBe(5000);
    expect(run.items).toBe(pms.items.size);
    expect(pms.calls.filter((c) => c.method !== "GET").length).toBe(callsBefore);
    expect(app.queue.pending()).toBe(0);
  }, 60_000);

  test("30 planted gaps of every kind: the CLI reports exactly those, with reasons, and no false gap", async () => {
    const ids = [...stash.library.scenes.keys()].filter((id) => stash.library.scenes.get(id)!.files.length === 1);
    let next = 100;
    const take = (n: number) => ids.slice(next, (next += n));
    // missing-in-plex: Plex lost the items (its files are still on disk: a scan brings them back).
    for (const id of take(30)) {
      pms.items.delete(itemOf(id).ratingKey);
      plant("missing-in-plex", id);
    }
    // unknown-to-stash: files Plex has that Stash does not.
    for (let i = 0; i < 30; i++)
      plant("unknown-to-stash", pms.addItem("1", `/media/Scenes/Loose Files/clip ${i}.mp4`).ratingKey);
    // unmatched: items not bound (never matched, or bound to another agent).
    for (const [k, id] of take(30).entries()) {
      const item = itemOf(id);
      item.guid = k % 2 ? `local://${item.ratingKey}` : `plex://movie/5d77${item.ratingKey}`;
      plant("unmatched", item.ratingKey);
    }
    // wrong-scene: re-matched by hand to another scene.
    for (const id of take(30)) {
      const item = itemOf(id);
      item.guid = `${IDENTIFIER}://movie/${ids[0]}`;
      plant("wrong-scene", item.ratingKey);
    }
    // orphaned: merged away in Stash (the file has a new owner), or deleted outright.
    const [merged, deleted] = [take(15), take(15)];
    for (const id of merged) {
      plant("orphaned", itemOf(id).ratingKey);
      stash.library.merge([id], take(1)[0]!);
    }
    for (const id of deleted) {
      plant("orphaned", itemOf(id).ratingKey);
      stash.library.remove(id);
    }
    // stale: edited by hand in Plex (title, summary, a genre), or changed in Stash while nothing pushed.
    for (const [k, id] of take(30).entries()) {
      const item = itemOf(id);
      if (k < 10) item.fields.title = item.title = "Edited in Plex";
      else if (k < 15) item.fields.summary = "A summary someone typed";
      else if (k < 20) item.fields.Genre = [{ tag: "Hand Picked" }, ...(item.fields.Genre ?? []).slice(1)];
      else stash.library.update(id, { title: `Renamed in Stash ${id}` });
      plant("stale", id);
    }
    // empty: the item lost its metadata (PMS failed to pull it).
    for (const id of take(30)) {
      const item: SimItem = itemOf(id);
      item.fields = {};
      item.title = parsedTitle(item.files[0]!).title;
      plant("empty", id);
    }
    // stash-empty: the scene's metadata was wiped in Stash; Plex still shows the old values.
    for (const id of take(30)) {
      Object.assign(stash.library.scenes.get(id)!, {
        title: null,
        date: null,
        details: null,
        studio: null,
        performers: [],
        tags: [],
      });
      plant("stash-empty", id);
    }
    // artwork: Plex lost the poster and background uploaded for the item (a database restored from before).
    for (const id of take(40)
      .filter((id) => stash.library.scenes.get(id)!.hasScreenshot)
      .slice(0, 30)) {
      pms.artwork.forget(itemOf(id));
      plant("artwork", itemOf(id).ratingKey);
    }

    const { out, code } = await cli("reconcile", "--json");
    expect(code).toBe(1); // gaps remain
    const report = JSON.parse(out) as { run: { counts: Record<string, number> }; gaps: Gap[] };
    const want = sorted(planted);
    const got = sorted(byKind(report.gaps));
    for (const k of Object.keys(got))
      if (JSON.stringify(got[k]) !== JSON.stringify(want[k]))
        console.log(k, report.gaps.filter((g) => g.kind === k && !(want[k] ?? []).includes(keyOf(g))).slice(0, 3));
    expect(got).toEqual(want);
    for (const kind of planted.keys()) expect(report.run.counts[kind]).toBe(30);
    const reason = (kind: GapKind) => report.gaps.find((g) => g.kind === kind)!.reason;
    expect(reason("missing-in-plex")).toMatch(/^Plex has no item for \/media\/.+ in section "Scenes"$/);
    expect(reason("unknown-to-stash")).toContain("Stash has no file /data/stash/Loose Files/clip");
    expect(reason("wrong-scene")).toMatch(/is bound to scene \d+, but its file belongs to scene \d+/);
    expect(report.gaps.filter((g) => g.kind === "orphaned" && g.reason.includes("no scene has its file"))).toHaveLength(
      15,
    );
    const staleFields = new Set(report.gaps.filter((g) => g.kind === "stale").flatMap((g) => g.fields!));
    expect([...staleFields].sort()).toEqual(["genres", "summary", "title"]);
  }, 60_000);

  test("--heal through the API heals them through the queue, Plex's match and scan; a second run finds none of the healed kinds", async () => {
    const res = await post(`${app.url}/api/reconcile`, { heal: true }, adminAuth);
    expect(res.status).toBe(202);
    expect(
      await waitFor(
        async () => {
          const state = (await (await adminGet(`${app.url}/api/reconcile`)).json()) as any;
          return state.running === null && state.report?.trigger === "api";
        },
        30_000,
        100,
      ),
    ).toBe(true);
    // Pushes drain, PMS pulls, missing folders are scanned.
    expect(
      await waitFor(
        async () => {
          await pms.idle();
          return app.queue.pending() === 0;
        },
        60_000,
        100,
      ),
    ).toBe(true);
    // The index job: the items Plex's scan brought back get their artwork as new items do.
    await app.refreshPlexIndex();
    const { gaps } = await app.reconciler.run({ heal: [], trigger: "test" });
    const left = byKind(gaps);
    for (const kind of ["missing-in-plex", "unmatched", "wrong-scene", "stale", "empty", "artwork"] as GapKind[])
      expect([kind, left.get(kind)?.size ?? 0]).toEqual([kind, 0]);
    // What needs a person stays reported: files Stash lacks, scenes Stash emptied, items of deleted scenes.
    expect(left.get("unknown-to-stash")?.size).toBe(30);
    expect(left.get("stash-empty")?.size).toBe(30);
    expect(left.get("orphaned")?.size).toBe(15);
    // Every healing action is in the scene's history.
    const stale = [...planted.get("stale")!][0]!;
    expect(
      app.queue.history(scene(stale)).some((h) => h.event === "queued" && h.detail?.startsWith("reconcile: stale")),
    ).toBe(true);
    const missing = [...planted.get("missing-in-plex")!][0]!;
    expect(
      app.queue
        .history(scene(missing))
        .some((h) => h.event === "reconcile" && h.detail?.includes("asked Plex to scan")),
    ).toBe(true);
    // Hand-edits are gone, and stash-empty scenes were not pushed over Plex's values.
    expect(itemOf([...planted.get("stale")!][0]!).title).not.toBe("Edited in Plex");
    const emptied = itemOf([...planted.get("stash-empty")!][0]!);
    expect(emptied.fields.studio).toBeDefined();
    expect(undocumentedCalls(pms.calls)).toEqual([]);

    // On a terminal-less run the CLI prints a table; exit 0 when none of the asked kinds remains.
    const healedKinds = await cli("reconcile", "--kinds", "stale,empty,unmatched,wrong-scene,missing-in-plex");
    expect(healedKinds.code).toBe(0);
    expect(healedKinds.out).toContain("no gaps: Plex shows what Stash holds");
    const all = await cli("reconcile");
    expect(all.code).toBe(1);
    expect(all.out).toMatch(/kind\s+found\s+healed\n(.|\n)*unknown-to-stash\s+30\s+0/);
    expect((await cli("reconcile", "--kinds", "bogus")).code).toBe(2);
  }, 120_000);

  test("the report is kept: counts per kind, gaps paged by kind; bad requests get clear errors", async () => {
    const state = (await (await adminGet(`${app.url}/api/reconcile?kind=orphaned&limit=10`)).json()) as any;
    expect(state.report.counts.orphaned).toBe(15);
    expect(state.gaps).toHaveLength(10);
    expect(state.gaps.every((g: Gap) => g.kind === "orphaned")).toBe(true);
    const bad = await adminGet(`${app.url}/api/reconcile?kind=nonsense`);
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as any).error.message).toContain('unknown gap kind "nonsense"');
    expect((await post(`${app.url}/api/reconcile`, {})).status).toBe(401);
    expect((await post(`${app.url}/api/reconcile`, { heal: ["nope"] }, adminAuth)).status).toBe(400);
  });

  test("Plex down: the run stops with a clear message and keeps nothing half-written; the next run completes. Stash down mid-run: the same", async () => {
    const before = app.reconciler.reports.lastDone()!;
    // Plex goes away while the run pages through its library.
    pms.latencyMs = 100;
    const reading = app.reconciler.run({ heal: [], trigger: "test" });
    await waitFor(() => app.reconciler.progress?.phase === "plex" && app.reconciler.progress.done > 0, 10_000, 5);
    await pms.stop();
    pms.latencyMs = 0;
    await expect(reading).rejects.toThrow(/reconcile stopped: Plex .*cannot connect/);
    expect(app.reconciler.reports.last()!.status).toBe("failed");
    expect(app.reconciler.reports.lastDone()!.id).toBe(before.id);
    pms.start();

    // Stash fails once the run is reading its scenes.
    const running = app.reconciler.run({ heal: [], trigger: "test" });
    await waitFor(() => app.reconciler.progress?.phase === "stash", 10_000, 1);
    stash.faults.errorRate = 1;
    await expect(running).rejects.toThrow(/reconcile stopped: .*Stash/);
    stash.faults.errorRate = 0;
    expect(app.reconciler.reports.last()!).toMatchObject({ status: "failed", scenes: 0 });
    expect(app.reconciler.reports.gaps(app.reconciler.reports.last()!.id, undefined, 0, 10)).toEqual([]);

    const { run } = await app.reconciler.run({ heal: [], trigger: "test" });
    expect(run.status).toBe("done");
    expect(run.scenes).toBe(stash.library.scenes.size);
  }, 60_000);
});
