/**
 * The overview tells the truth about TV libraries (issue 25, "tried as a new user would"): scenes
 * whose files no link can reach (a Windows Stash) are one grouped note with why and what to do,
 * never red lines under a green "All is well"; the headline says there are notes; a library that
 * genuinely fails stays red and turns the headline amber; and the card, the table and Plex show
 * one number of episodes: the links actually in the episode folder.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdirSync, readdirSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { StashSim } from "../../sim/stash/server.ts";
import { PmsSim } from "../../sim/plex/server.ts";
import { loadConfig } from "../../src/config/load.ts";
import { createApp, type App } from "../../src/app.ts";
import { silentLogger } from "../../src/log.ts";
import { plexFilesFor } from "../../src/demo.ts";
import { episodeFolder } from "../../src/tv/episode-folder.ts";
import { realFs } from "../../src/tv/fs-ops.ts";
import { tvCheck } from "../../src/tv/check.ts";
import { createTvLibraries } from "../../src/sync/tv-libraries.ts";
import { createStashClient } from "../../src/stash/client.ts";
import { createPathMapper } from "../../src/paths/mapper.ts";
import { openStore } from "../../src/store/db.ts";
import { DEFAULT_INSTANCE_ID, sceneRef } from "../../src/domain/ref.ts";
import { IDENTIFIER, adminGet, tempDir, testEnv, waitFor } from "../helpers.ts";

const TV_IDENTIFIER = `${IDENTIFIER}.tv`;
/** What a person reads: tags out, the entities html.ts writes decoded. */
const textOf = (html: string) =>
  html
    .replace(/<[^>]*>/g, " ")
    .replace(/\s+/g, " ")
    .replaceAll("&#39;", "'")
    .replaceAll("&quot;", '"')
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");

/** Every link (file or symlink) under `root`, relative. */
function links(root: string, rel = ""): string[] {
  return readdirSync(join(root, rel), { withFileTypes: true }).flatMap((e) => {
    const path = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? links(root, path) : [path];
  });
}

interface TvWorld {
  stash: StashSim;
  pms: PmsSim;
  app: App;
  folder: string;
  close(): Promise<void>;
}

/**
 * A Stash whose library is partly on a Windows share (D:\Scenes, the simulator's default tenth),
 * PMS with a TV section on the episode folder, and the real app after its start-up full pass.
 * `extra`: more TV libraries (no Plex section of their own).
 */
async function tvWorld(extra: object[] = []): Promise<TvWorld> {
  const stash = new StashSim({ scenes: 120, seed: 3 }).start();
  const pms = new PmsSim().start();
  pms.addSection(
    { key: "1", title: "Scenes", type: "movie", agent: IDENTIFIER, locations: ["/media/Scenes", "/media/Windows"] },
    plexFilesFor(stash),
  );
  const folder = tempDir("s2p-tv-truth-");
  pms.addSection({ key: "2", title: "Sites", type: "show", agent: TV_IDENTIFIER, locations: [folder] });
  const libraries = [{ id: "sites", layout: "studio", folder, plexFolder: folder }, ...extra];
  const app = createApp(loadConfig(testEnv(stash, pms, { TV_LIBRARIES: JSON.stringify(libraries) }), undefined), {
    log: silentLogger,
  });
  await app.start(0, "127.0.0.1");
  expect(await pms.registerProvider(app.url!)).toBe(IDENTIFIER);
  expect(await pms.registerProvider(`${app.url}/tv`)).toBe(TV_IDENTIFIER);
  await app.stashIndex.refresh();
  await fullPass(app);
  return {
    stash,
    pms,
    app,
    folder,
    async close() {
      await app.stop();
      await pms.stop();
      await stash.stop();
    },
  };
}

const tvJob = (app: App) => app.scheduler.list().find((j) => j.id === "tv-sync");

/** Waits for the next full pass to end (the start-up one when none ended yet); fails the test if it did not. */
async function fullPass(app: App, after = tvJob(app)?.lastSuccessAt ?? null) {
  if (after !== null) app.scheduler.trigger("tv-sync");
  const done = await waitFor(() => (tvJob(app)?.lastSuccessAt ?? null) !== after, 60_000);
  if (!done) throw new Error(`tv-sync did not finish: ${tvJob(app)?.lastError}`);
}

/** The scenes the studio layout places (a studio and a file), split by where their file is. */
function placeable(stash: StashSim) {
  const all = [...stash.library.scenes.values()].filter((s) => s.studio && s.files.length);
  const windows = all.filter((s) => s.files[0]!.path.startsWith("D:\\"));
  return { all: all.length, windows: windows.length };
}

const overview = async (app: App) => (await adminGet(`${app.url}/ui`)).text();
const part = (html: string, re: RegExp) => re.exec(html)?.[0] ?? "";
const card = (html: string) => part(html, /<div class="card" id="tv-card">[\s\S]*?<\/div>/);
const row = (html: string, id: string) => part(html, new RegExp(`<tr data-tv="${id}">[\\s\\S]*?</tr>`));
const headlineOf = (html: string) => part(html, /<div class="headline[\s\S]*?<\/div>/);

describe("a TV library with scenes on a Windows share", () => {
  let w: TvWorld;
  beforeAll(async () => {
    w = await tvWorld();
  }, 120_000);
  afterAll(() => w?.close());

  test("the unlinkable scenes are one note with why and what to do, never red under a green headline", async () => {
    const { windows } = placeable(w.stash);
    expect(windows).toBeGreaterThan(1);
    const page = await overview(w.app);
    const head = headlineOf(page);
    // Green (nothing fails), and it says there is a note rather than pretending there is nothing.
    expect(head).toContain('data-level="green"');
    expect(textOf(head)).toContain("All is well — 1 note");
    expect(textOf(head)).toContain(`TV library sites: ${windows} scenes on a Windows path: no link`);
    // No red anywhere in the TV card or the library's row.
    expect(card(page)).not.toContain('class="bad"');
    expect(row(page, "sites")).not.toContain('class="bad"');
    // One grouped line, not one line per scene: its count, why, and what to do.
    const notes = row(page, "sites").match(/<li class="note">[\s\S]*?<\/li>/g) ?? [];
    expect(notes).toHaveLength(1);
    const note = textOf(notes[0]!);
    expect(note).toContain(`${windows} scenes on a Windows path: no link`);
    expect(note).toContain("D:\\Scenes\\"); // why: the path Stash gives, which no link here can point at
    expect(note).toContain("stash2plex check"); // what to do: it names them
    expect(note).not.toContain("{s2p-"); // no link names: a group, not a list
    expect(textOf(card(page))).toContain("1 note");
  }, 60_000);

  test("one number of episodes: the card, the table and Plex all count the links in the episode folder", async () => {
    const { all, windows } = placeable(w.stash);
    const onDisk = links(w.folder).length;
    expect(onDisk).toBe(all - windows);
    const page = await overview(w.app);
    expect(textOf(card(page))).toContain(`${onDisk} episodes in`);
    expect(row(page, "sites")).toContain(`<td data-label="episodes">${onDisk}</td>`);
    // The other count is said as what it is, not as episodes.
    expect(textOf(card(page))).toContain(`${windows} scenes not linked`);
    expect(textOf(page)).not.toContain(`${all} episodes`);
    // What Plex shows after scanning the folder is that same number.
    await w.pms.scanTv("2");
    const episodes = [...w.pms.items.values()].filter((i) => i.sectionId === "2" && i.type === "episode");
    expect(episodes).toHaveLength(onDisk);
  }, 60_000);

  test("a file of someone else's in a link's place is a second note; the count follows what is on disk", async () => {
    const [first] = links(w.folder).sort();
    unlinkSync(join(w.folder, first!));
    writeFileSync(join(w.folder, first!), "not a link");
    await fullPass(w.app);
    const { all, windows } = placeable(w.stash);
    const page = await overview(w.app);
    expect(textOf(headlineOf(page))).toContain("All is well — 2 notes");
    const notes = (row(page, "sites").match(/<li class="note">[\s\S]*?<\/li>/g) ?? []).map(textOf);
    expect(notes).toHaveLength(2);
    expect(notes.some((n) => n.includes("1 scene: something not stash2plex's is where its link goes"))).toBe(true);
    expect(row(page, "sites")).not.toContain('class="bad"');
    // The file is not a link Plex shows as this library's episode: the number drops by one.
    expect(textOf(card(page))).toContain(`${all - windows - 1} episodes in`);
    expect(textOf(card(page))).toContain(`${windows + 1} scenes not linked`);
    // Taken away, the next pass makes the link and the note goes.
    unlinkSync(join(w.folder, first!));
    await fullPass(w.app);
    const again = await overview(w.app);
    expect(textOf(headlineOf(again))).toContain("All is well — 1 note");
    expect(textOf(card(again))).toContain(`${all - windows} episodes in`);
  }, 60_000);
  test("a scene no link can reach is no TV gap, and its push is delivered, not retried for an episode that cannot come", async () => {
    await w.pms.scanTv("2");
    const windowsScenes = [...w.stash.library.scenes.values()].filter(
      (s) => s.studio && s.files[0]?.path.startsWith("D:\\"),
    );
    const { gaps } = await w.app.reconciler.run({ heal: [], trigger: "test" });
    const tvMissing = gaps.filter((g) => g.sectionId === "2" && g.kind === "missing-in-plex");
    expect(tvMissing.filter((g) => windowsScenes.some((s) => s.id === g.sceneId))).toEqual([]);
    // Its movie item is refreshed; the TV side says why there is no episode and waits for none.
    const scene = windowsScenes[0]!;
    w.app.queue.enqueue([{ ref: sceneRef(DEFAULT_INSTANCE_ID, scene.id) }], "webhook");
    expect(await waitFor(() => w.app.queue.job(sceneRef(DEFAULT_INSTANCE_ID, scene.id)) === undefined, 20_000)).toBe(
      true,
    );
    expect(w.app.queue.deadLetterCount()).toBe(0);
  }, 60_000);
});

describe("a TV library that genuinely fails beside one with notes", () => {
  let w: TvWorld;
  let missing: string;
  beforeAll(async () => {
    missing = join(tempDir("s2p-tv-gone-"), "unmounted", "tv");
    w = await tvWorld([{ id: "broken", layout: "group", folder: missing, plexFolder: missing }]);
  }, 120_000);
  afterAll(() => w?.close());

  test("the failure is red and turns the headline amber; the note stays a note", async () => {
    const { windows } = placeable(w.stash);
    const page = await overview(w.app);
    const head = headlineOf(page);
    expect(head).toContain('data-level="amber"');
    expect(textOf(head)).not.toContain("All is well");
    expect(textOf(head)).toContain("TV library broken: the episode folder's parent");
    expect(textOf(head)).toContain(`TV library sites: ${windows} scenes on a Windows path: no link`);
    expect(row(page, "broken")).toContain('<li class="bad">');
    expect(row(page, "sites")).not.toContain('class="bad"');
    expect(textOf(card(page))).toContain("1 problem");
    expect(textOf(card(page))).toContain("1 note");
    // Never written, so nothing of it is counted as shown: its cells say so instead of a number.
    expect(row(page, "broken")).toContain('<td data-label="episodes">not yet</td>');
    // Once the volume is there, the next pass writes it and the headline is green again.
    mkdirSync(join(missing, ".."), { recursive: true });
    await fullPass(w.app);
    const fixed = await overview(w.app);
    expect(headlineOf(fixed)).toContain('data-level="green"');
    expect(row(fixed, "broken")).not.toContain('class="bad"');
  }, 60_000);
});

describe("the episode folder says why each link was not made", () => {
  test("every wanted link not made is listed with its cause, uncapped; the filesystem refusing is io", async () => {
    const root = tempDir("s2p-tv-why-");
    const wanted = [
      ...Array.from({ length: 60 }, (_, i) => ({
        link: `S {s2p-st1}/Season 2023/S - S2023E0${i} - T {s2p-st-${i}}.mp4`,
        path: `D:\\Scenes\\${i}.mp4`,
      })),
      { link: "S {s2p-st1}/Season 2023/S - S2023E100 - T {s2p-st-100}.mp4", path: "\\\\nas\\share\\a.mp4" },
      { link: "S {s2p-st1}/Season 2023/S - S2023E101 - T {s2p-st-101}.mp4", path: "relative/a.mp4" },
      { link: "S {s2p-st1}/Season 2023/S - S2023E102 - T {s2p-st-102}.mp4", path: "/data/stash/a.mp4" },
    ];
    const noSpace = () => Object.assign(new Error("no space"), { code: "ENOSPC" });
    const refusing = {
      ...realFs,
      symlink: () => {
        throw noSpace();
      },
      symlinkAsync: () => Promise.reject(noSpace()),
    };
    const report = await episodeFolder(root, refusing).sync(wanted);
    expect(report.problems).toHaveLength(50);
    expect(report.unlinked).toHaveLength(63);
    const causes = Object.groupBy(report.unlinked, (u) => u.cause);
    expect(causes["windows-path"]).toHaveLength(61);
    expect(causes["not-a-path"]?.map((u) => u.detail)).toEqual(["relative/a.mp4"]);
    expect(causes.io?.map((u) => u.detail)).toEqual(["ENOSPC"]);
    expect(report.unlinked[60]).toMatchObject({ cause: "windows-path", detail: "\\\\nas\\share\\a.mp4" });
  });
});

describe("the count follows every push, not only the hourly pass", () => {
  test("a scene whose file moves off or onto the Windows share changes what Plex can show at once; check names them", async () => {
    const stash = new StashSim({ scenes: 60, seed: 3 }).start();
    try {
      const client = createStashClient({ url: stash.url, apiKey: "", timeoutMs: 5000 });
      const folder = tempDir("s2p-tv-push-");
      const store = openStore(":memory:");
      const tv = createTvLibraries({
        db: store.db,
        instance: "default",
        libraries: [
          {
            id: "sites",
            instance: "default",
            layout: { layout: "studio", parentStudio: false },
            scheme: "st",
            folder,
            plexFolder: folder,
          },
        ],
        stash: client,
        mapper: createPathMapper([]),
        log: silentLogger,
      });
      const [view] = tv.views();
      const [port] = tv.ports;
      // Before a pass wrote the folder, nothing is claimed.
      expect(view!.state().shown).toBeNull();
      await tv.fullSync();
      const { all, windows } = placeable(stash);
      const shown = () => view!.state().shown!;
      expect(shown().episodes).toBe(all - windows);
      expect(shown().episodes).toBe(links(folder).length);
      expect(view!.state().unlinked.size).toBe(windows);

      /** The scene's file moved (Stash rescanned it elsewhere), then pushed as the worker does. */
      const moveAndPush = async (scene: { id: string; files: { path: string }[] }, path: string) => {
        scene.files = [{ ...scene.files[0]!, path }];
        return port!.sync((await client.scenesByIds([scene.id]))[0]!);
      };
      // Off the share: linked, counted.
      const fromWindows = [...stash.library.scenes.values()].find(
        (s) => s.studio && s.files[0]?.path.startsWith("D:\\"),
      )!;
      await moveAndPush(fromWindows, "/data/stash/Moved/a.mp4");
      expect(shown().episodes).toBe(all - windows + 1);
      expect(view!.state().unlinked.size).toBe(windows - 1);
      // Onto the share: its link goes, and it is counted as not linked instead.
      const toWindows = [...stash.library.scenes.values()].find(
        (s) => s.studio && s.id !== fromWindows.id && s.files[0]?.path.startsWith("/data/stash/"),
      )!;
      const oldLink = tv.catalog.placementOf("st", toWindows.id)!.link;
      await moveAndPush(toWindows, "D:\\Scenes\\b.mp4");
      expect(links(folder)).not.toContain(oldLink); // no episode left pointing where the file was
      expect(shown().episodes).toBe(all - windows);
      expect(shown().episodes).toBe(links(folder).length);
      expect([...view!.state().unlinked.values()].map((u) => u.detail)).toContain("D:\\Scenes\\b.mp4");
      // `check` (what the note points at) lists every one of them by name.
      const scenes = [...stash.library.scenes.values()].map((s) => ({
        ...s,
        files: s.files.map((f) => ({ path: f.path })),
      }));
      const entries = tvCheck(scenes, ["st"], (scheme, id) => tv.catalog.placementOf(scheme, id));
      const onWindows = entries.filter((e) => e.problem === "on a Windows path → no link");
      expect(onWindows.map((e) => e.sceneId).sort()).toEqual(
        [...view!.state().unlinked.keys()]
          .map((l) => tv.catalog.placements("st").find((p) => p.link === l)!.sceneId)
          .sort(),
      );
      expect(onWindows.find((e) => e.sceneId === toWindows.id)!.where).toBe("its file is D:\\Scenes\\b.mp4");
      store.close();
    } finally {
      await stash.stop();
    }
  }, 60_000);
});
