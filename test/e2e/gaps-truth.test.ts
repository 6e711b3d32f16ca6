/**
 * Reconcile tells the truth (issue 17, defects 6–8 and the Gaps page): a field locked in Plex
 * is the user's decision, not a gap to heal every night; a section of another agent whose files
 * Stash does not know is skipped, with why; tag drift past what a section listing shows is found
 * from batched item reads; the Gaps page shows a finished run without reload, a stale gap's two
 * values side by side, and gaps nobody can heal from here apart from the headline.
 * Real service, real SQLite, the Stash and PMS simulators.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { plexPathFor } from "../../src/demo.ts";
import { SAFE_KINDS } from "../../src/domain/gaps.ts";
import { IDENTIFIER, adminGet, testEnv, waitFor } from "../helpers.ts";
import { undocumentedCalls } from "../conformance/shared.ts";

let stash: StashSim;
let pms: PmsSim;
let app: App;

const itemOf = (sceneId: string) => [...pms.items.values()].find((i) => i.guid === `${IDENTIFIER}://movie/${sceneId}`)!;
const singleFile = () => [...stash.library.scenes.values()].filter((s) => s.files.length === 1);

beforeAll(async () => {
  stash = new StashSim({ scenes: 1200, seed: 17 }).start();
  pms = new PmsSim().start();
  const files = [...stash.library.scenes.values()].flatMap((s) => s.files.map((f) => plexPathFor(f.path)));
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
    files,
  );
  // Home videos: the Personal Media agent, files Stash has never seen.
  pms.addSection(
    { key: "2", title: "Home Videos", type: "movie", agent: "tv.plex.agents.none", locations: ["/media/Home"] },
    [],
  );
  for (let i = 0; i < 25; i++) pms.addItem("2", `/media/Home/Birthday ${i}.mp4`);
  app = createApp(
    loadConfig(
      testEnv(stash, pms, {
        SYNC_RETRY_BASE_SECONDS: "0.05",
        SYNC_SWEEP_SECONDS: "1",
        SYNC_DRAIN_PER_SECOND: "2000",
        SYNC_CONFIRM_SECONDS: "5",
      }),
      undefined,
    ),
    { log: silentLogger },
  );
  await app.start(0, "127.0.0.1");
  pms.providerUrl = app.url!;
  await app.stashIndex.refresh();
  await pms.scan("1", { concurrency: 16 });
  // As the index job does: items bound to our scenes get their artwork.
  await app.refreshPlexIndex();
}, 120_000);
afterAll(async () => {
  await app.stop();
  await pms.stop();
  await stash.stop();
});

describe("reconcile tells the truth", () => {
  test("a section of another agent holding no file Stash knows is skipped with why, not 25 unknown-to-stash gaps", async () => {
    const { run, gaps } = await app.reconciler.run({ heal: [], trigger: "test" });
    expect(gaps.filter((g) => g.sectionId === "2")).toEqual([]);
    expect(gaps).toEqual([]);
    expect(run.skipped).toEqual([
      {
        key: "2",
        title: "Home Videos",
        agent: "tv.plex.agents.none",
        reason: expect.stringContaining("not stash2plex's agent"),
      },
    ]);
    expect(run.skipped![0]!.reason).toContain("PLEX_SECTIONS");
    const state = (await (await adminGet(`${app.url}/api/reconcile`)).json()) as any;
    expect(state.report.skipped[0].title).toBe("Home Videos");
    const page = await (await adminGet(`${app.url}/ui/gaps`)).text();
    expect(page).toContain("Home Videos");
    expect(page).toContain("skipped");
  }, 60_000);

  test("listed in PLEX_SECTIONS, the same section is compared: its files Stash lacks are reported", async () => {
    const listed = createApp(loadConfig(testEnv(stash, pms, { PLEX_SECTIONS: "1,2" }), undefined), {
      log: silentLogger,
    });
    try {
      const { run, gaps } = await listed.reconciler.run({ heal: [], trigger: "test" });
      expect(run.skipped).toEqual([]);
      expect(gaps.filter((g) => g.sectionId === "2" && g.kind === "unknown-to-stash")).toHaveLength(25);
    } finally {
      await listed.stop();
    }
  }, 60_000);

  test("a title locked in Plex that differs from Stash is kept in Plex: not stale, not healed, no push", async () => {
    const [locked, edited] = singleFile()
      .slice(10, 12)
      .map((s) => itemOf(s.id));
    // The user retitled the item in Plex and locked the title (Plex locks a field edited by hand).
    locked!.fields.title = locked!.title = "My Own Title";
    locked!.locked.add("title");
    // Another item edited by hand without a lock: that one is stale and healed.
    edited!.fields.title = edited!.title = "Edited, not locked";
    const before = pms.pushCallsFor(locked!.ratingKey);
    const { run, gaps } = await app.reconciler.run({ heal: SAFE_KINDS, trigger: "test" });
    expect(gaps.filter((g) => g.ratingKey === locked!.ratingKey)).toEqual([]);
    expect(gaps.filter((g) => g.kind === "stale").map((g) => g.ratingKey)).toEqual([edited!.ratingKey]);
    expect(run.kept).toBe(1);
    expect(run.keptItems).toEqual([
      {
        ratingKey: locked!.ratingKey,
        sceneId: expect.any(String),
        instance: "default",
        fields: ["title"],
        values: {
          title: { stash: stash.library.scenes.get(run.keptItems![0]!.sceneId)!.title!, plex: "My Own Title" },
        },
      },
    ]);
    expect(await waitFor(async () => (await pms.idle(), app.queue.pending() === 0), 30_000, 50)).toBe(true);
    expect(pms.pushCallsFor(locked!.ratingKey)).toBe(before);
    expect(locked!.title).toBe("My Own Title");
    // The next night: still kept, still no push; the healed one is gone.
    const again = await app.reconciler.run({ heal: SAFE_KINDS, trigger: "test" });
    expect(again.gaps).toEqual([]);
    expect(again.run.kept).toBe(1);
    expect(pms.pushCallsFor(locked!.ratingKey)).toBe(before);
    const page = await (await adminGet(`${app.url}/ui/gaps`)).text();
    expect(page).toMatch(/kept in Plex/i);
  }, 60_000);

  test("tag drift past what a listing shows is found: Plex lost the third tag (40), Stash gained one (40): 80 of 80", async () => {
    const three = singleFile().filter((s) => s.tags.length === 3);
    expect(three.length).toBeGreaterThanOrEqual(80);
    const lost = three.slice(0, 40);
    const gained = three.slice(40, 80);
    for (const s of lost) itemOf(s.id).fields.Genre = itemOf(s.id).fields.Genre.slice(0, 2);
    // Stash gained a tag without a new updated_at (a tag merged into the scene).
    for (const s of gained) s.tags.push({ id: "999", name: "Gained Later" });
    const calls = pms.calls.length;
    const { run, gaps } = await app.reconciler.run({ heal: [], trigger: "test" });
    const stale = gaps.filter((g) => g.kind === "stale");
    expect(new Set(stale.map((g) => g.sceneId))).toEqual(new Set([...lost, ...gained].map((s) => s.id)));
    expect(stale.every((g) => g.fields!.join() === "genres")).toBe(true);
    // Within budget: listing pages plus batched item reads, not a request per item.
    const plexRequests = pms.calls.length - calls;
    expect((plexRequests / run.items) * 1000).toBeLessThanOrEqual(8);
    expect(undocumentedCalls(pms.calls)).toEqual([]);
    // Side by side: what Stash has, what Plex shows.
    const g = stale.find((x) => x.sceneId === gained[0]!.id)!;
    expect(g.values!.genres!.stash).toContain("Gained Later");
    expect(g.values!.genres!.plex).not.toContain("Gained Later");
    // Put the tags back as they were, for the next tests.
    for (const s of gained) s.tags.pop();
    await app.reconciler.run({ heal: ["stale"], trigger: "test" });
    await waitFor(async () => (await pms.idle(), app.queue.pending() === 0), 30_000, 50);
  }, 90_000);

  test("the Gaps page: a stale gap shows Stash's value and Plex's side by side", async () => {
    const scene = singleFile()[30]!;
    const item = itemOf(scene.id);
    item.fields.summary = "Typed in Plex by hand";
    await app.reconciler.run({ heal: [], trigger: "test" });
    const page = await (await adminGet(`${app.url}/ui/gaps?kind=stale`)).text();
    expect(page).toContain("Typed in Plex by hand");
    expect(page).toContain(scene.details!.slice(0, 40));
    expect(page).toMatch(/<th[^>]*>Stash<\/th>\s*<th[^>]*>Plex<\/th>/);
  }, 60_000);

  test("a finished run's result shows without reload: the live fragment polled while running brings the report when the run ends", async () => {
    pms.latencyMs = 30;
    const running = app.reconciler.run({ heal: [], trigger: "dashboard" });
    await waitFor(() => app.reconciler.progress !== null, 5000, 5);
    const live = await (await adminGet(`${app.url}/ui/live/reconcile`)).text();
    expect(live).toContain("Reconciling");
    const { run } = await running;
    pms.latencyMs = 0;
    // htmx polls what the fragment names, and swaps in what it selects.
    const url = /hx-get="([^"]+)"/.exec(live)![1]!.replaceAll("&amp;", "&");
    const select = /hx-select="([^"]+)"/.exec(live)?.[1];
    const next = await (await adminGet(`${app.url}${url}`)).text();
    expect(select).toBeDefined();
    const id = select!.replace(/^#/, "");
    expect(next).toContain(`id="${id}"`);
    const swapped = next.slice(next.indexOf(`id="${id}"`));
    expect(swapped).toContain(`data-run="${run.id}"`);
    expect(swapped).toContain("Last report");
    expect(swapped).not.toContain("Reconciling:");
  }, 60_000);

  test("unknown-to-stash gaps with Stash scanning off are counted apart and do not keep the headline amber", async () => {
    for (let i = 0; i < 5; i++) pms.addItem("1", `/media/Scenes/Loose/clip ${i}.mp4`);
    const { run } = await app.reconciler.run({ heal: app.manualHeal, trigger: "test" });
    expect(run.counts["unknown-to-stash"]).toBe(5);
    const overview = await (await adminGet(`${app.url}/ui`)).text();
    expect(overview).not.toContain("Gaps to heal");
    expect(overview).toContain("5 gaps cannot be healed from here and need a person");
    const page = await (await adminGet(`${app.url}/ui/gaps`)).text();
    expect(page).toMatch(/cannot be healed from here[^<]*<\/?\w*[^>]*>?\s*5|5 cannot be healed from here/);
    for (const item of [...pms.items.values()].filter((i) => i.files[0]!.includes("/Loose/")))
      pms.items.delete(item.ratingKey);
  }, 60_000);
});

describe("the batched item read (client and simulator)", () => {
  test("reads many items whole in one request, leaves out the ones PMS lacks, and answers [] when none is left", async () => {
    const keys = [...pms.items.keys()].slice(0, 3);
    const calls = pms.calls.length;
    const items = await app.plex.items([...keys, "99999999"]);
    expect(
      pms.calls.slice(calls).filter((c) => c.method === "GET" && c.path.startsWith("/library/metadata/")),
    ).toHaveLength(1);
    expect(items.map((i) => String(i.ratingKey))).toEqual(keys);
    expect(await app.plex.items(["99999998", "99999999"])).toEqual([]);
    await expect(app.plex.items(["1", "../x"])).rejects.toThrow(/numbers/);
  });
});
