/**
 * The episode folder on a real filesystem (temp folders), fed by a real catalog (SQLite) built
 * from the Stash simulator: full sync, one scene moving, foreign files left alone, a symlinked
 * folder never followed out, and the start-up refusal of a folder inside a Stash library.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  realpathSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { StashSim } from "../../sim/stash/server.ts";
import { createStashClient } from "../../src/stash/client.ts";
import { openStore } from "../../src/store/db.ts";
import { createTvCatalog } from "../../src/tv/catalog.ts";
import { EpisodeFolderError, episodeFolder, type WantedLink } from "../../src/tv/episode-folder.ts";
import { countingFs } from "../../src/tv/fs-ops.ts";
import { checkTvFolders, type TvLibrary } from "../../src/tv/libraries.ts";
import { tvCheck } from "../../src/tv/check.ts";
import type { TvScene } from "../../src/tv/placement.ts";
import { tempDir } from "../helpers.ts";

/** Every file under `root` (relative, `/`-separated), symlinks not followed. */
function tree(root: string, rel = ""): string[] {
  return readdirSync(join(root, rel), { withFileTypes: true }).flatMap((e) => {
    const path = rel ? `${rel}/${e.name}` : e.name;
    return e.isDirectory() ? tree(root, path) : [path];
  });
}

const wantedOf = (rows: { link: string; path: string }[]): WantedLink[] =>
  rows.map((r) => ({ link: r.link, path: r.path }));

describe("the episode folder", () => {
  let media: string;
  let folder: string;
  const scenes: TvScene[] = [];
  const scene = (id: string, date: string | null, studio = { id: "1", name: "Studio A" }): TvScene => {
    const path = join(media, `${id}.mp4`);
    if (!existsSync(path)) writeFileSync(path, `video ${id}`);
    return {
      id,
      title: `Scene ${id}`,
      date,
      studio: { ...studio, parent_studio: null },
      groups: [],
      files: [{ path }],
    };
  };

  beforeAll(() => {
    const root = tempDir("s2p-tv-");
    media = join(root, "media");
    folder = join(root, "tv");
    mkdirSync(media);
    scenes.push(scene("1", "2023-04-12"), scene("2", "2023-04-12"), scene("3", "2022-01-01"), scene("4", null));
    scenes.push(scene("5", "2023-05-01", { id: "2", name: "Studio B: Live?" }));
  });

  const catalogFor = () => {
    const store = openStore(":memory:");
    return createTvCatalog({ db: store.db, instance: "default", schemes: ["st"] });
  };

  test("full sync makes every link, relative, resolving to the scene's file; a second sync changes nothing", async () => {
    const catalog = catalogFor();
    catalog.buildFrom(scenes);
    const dir = episodeFolder(folder);
    const report = await dir.sync(wantedOf(catalog.placements("st")));
    expect(report).toMatchObject({ created: 5, removed: 0, retargeted: 0, problems: [] });
    expect(tree(folder).sort()).toEqual([
      "Studio A {s2p-st1}/Season 2022/Studio A - S2022E01010 - Scene 3 {s2p-st-3}.mp4",
      "Studio A {s2p-st1}/Season 2023/Studio A - S2023E04120 - Scene 1 {s2p-st-1}.mp4",
      "Studio A {s2p-st1}/Season 2023/Studio A - S2023E04121 - Scene 2 {s2p-st-2}.mp4",
      "Studio A {s2p-st1}/Specials/Studio A - S00E01 - Scene 4 {s2p-st-4}.mp4",
      "Studio B Live {s2p-st2}/Season 2023/Studio B Live - S2023E05010 - Scene 5 {s2p-st-5}.mp4",
    ]);
    for (const link of tree(folder)) {
      const target = readlinkSync(join(folder, link));
      expect(target.startsWith("../../../media/")).toBe(true);
      expect(readFileSync(join(folder, link), "utf8")).toMatch(/^video \d$/);
    }
    const again = await dir.sync(wantedOf(catalog.placements("st")));
    expect(again).toMatchObject({ created: 0, removed: 0, retargeted: 0, unchanged: 5, touched: [] });
  });

  test("one scene moving to another year: only its own link moves, and the folders touched are named", async () => {
    const catalog = catalogFor();
    catalog.buildFrom(scenes);
    const fs = countingFs();
    const dir = episodeFolder(folder, fs);
    await dir.sync(wantedOf(catalog.placements("st")));
    const before = tree(folder).map((p) => [p, readlinkSync(join(folder, p))]);

    const moved = { ...scenes[1]!, date: "2021-04-12" };
    const { changes } = catalog.update(moved);
    expect(changes).toHaveLength(1);
    const counted = countingFs();
    const one = episodeFolder(folder, counted);
    const report = one.syncOne(changes[0]!.before, changes[0]!.after);
    expect(report).toMatchObject({ created: 1, removed: 1, problems: [] });
    expect(report.touched).toEqual(["Studio A {s2p-st1}/Season 2021", "Studio A {s2p-st1}/Season 2023"]);
    expect(counted.counts.symlink + counted.counts.unlink).toBe(2);
    expect(counted.counts.readdir).toBe(0);
    const after = tree(folder).map((p) => [p, readlinkSync(join(folder, p))]);
    const gone = before.filter(([p]) => !after.some(([q]) => q === p)).map(([p]) => p);
    const came = after.filter(([p]) => !before.some(([q]) => q === p)).map(([p]) => p);
    expect(gone).toEqual(["Studio A {s2p-st1}/Season 2023/Studio A - S2023E04121 - Scene 2 {s2p-st-2}.mp4"]);
    expect(came).toEqual(["Studio A {s2p-st1}/Season 2021/Studio A - S2021E04120 - Scene 2 {s2p-st-2}.mp4"]);

    // Scene 1 leaves its studio: its season folder and show folder (now empty) go too.
    const leaving = catalog.update({ ...scenes[4]!, studio: null });
    expect(leaving.changes).toHaveLength(1);
    one.syncOne(leaving.changes[0]!.before, leaving.changes[0]!.after);
    expect(existsSync(join(folder, "Studio B Live {s2p-st2}"))).toBe(false);
    // And a full sync back to the build's state restores the link and removes nothing else.
    catalog.buildFrom(scenes);
    const back = await dir.sync(wantedOf(catalog.placements("st")));
    expect(back).toMatchObject({ problems: [] });
    expect(tree(folder).length).toBe(5);
  });

  test("foreign files are never touched: not in our folders, not in a link's place, not a folder we would remove", async () => {
    const catalog = catalogFor();
    catalog.buildFrom(scenes);
    const dir = episodeFolder(folder);
    await dir.sync(wantedOf(catalog.placements("st")));
    const notes = join(folder, "notes.txt");
    writeFileSync(notes, "mine");
    const poster = join(folder, "Studio A {s2p-st1}", "Season 2022", "poster.jpg");
    writeFileSync(poster, "jpg");
    // A regular file where scene 1's link goes, and a user's own symlink without our token.
    const link1 = catalog.placementOf("st", "1")!.link;
    const own = join(folder, "Studio A {s2p-st1}", "Season 2023", "my link.mp4");
    symlinkSync("/nowhere", own);
    const { unlinkSync } = await import("node:fs");
    unlinkSync(join(folder, link1));
    writeFileSync(join(folder, link1), "a real file");

    // Everything leaves the catalog (all scenes lose their studio): only our links go.
    catalog.buildFrom(scenes.map((s) => ({ ...s, studio: null })));
    const report = await dir.sync(wantedOf(catalog.placements("st")));
    expect(report.removed).toBe(4);
    expect(readFileSync(notes, "utf8")).toBe("mine");
    expect(readFileSync(poster, "utf8")).toBe("jpg");
    expect(readlinkSync(own)).toBe("/nowhere");
    expect(readFileSync(join(folder, link1), "utf8")).toBe("a real file");
    expect(existsSync(join(folder, "Studio B Live {s2p-st2}"))).toBe(false);

    // Placed again: the file in scene 1's place is left alone and reported.
    catalog.buildFrom(scenes);
    const again = await dir.sync(wantedOf(catalog.placements("st")));
    expect(again.problems).toEqual([`${link1}: a file that is not a stash2plex link is in its place: left alone`]);
    expect(readFileSync(join(folder, link1), "utf8")).toBe("a real file");
    const single = episodeFolder(folder).syncOne(undefined, catalog.placementOf("st", "1"));
    expect(single.problems).toHaveLength(1);
    expect(readFileSync(join(folder, link1), "utf8")).toBe("a real file");
  });

  test("a symlinked show or season folder is never followed out of the episode folder", async () => {
    const root = tempDir("s2p-tv-escape-");
    const outside = join(root, "outside");
    const tv = join(root, "tv");
    mkdirSync(outside);
    mkdirSync(tv);
    writeFileSync(join(outside, "precious.txt"), "keep");
    const catalog = catalogFor();
    catalog.buildFrom(scenes);
    // The show folder scene 1 needs is a symlink to a folder outside.
    const showDir = catalog.placementOf("st", "1")!.link.split("/")[0]!;
    symlinkSync(outside, join(tv, showDir));
    mkdirSync(join(outside, "Season 2023"));
    const stale = join(outside, "Season 2023", "Studio A - S2023E09990 - Old {s2p-st-99}.mp4");
    symlinkSync("/old", stale);
    const dir = episodeFolder(tv);
    const report = await dir.sync(wantedOf(catalog.placements("st")));
    expect(report.problems).toContain(`${showDir}: a symlinked folder is never entered: left alone`);
    expect(report.problems.some((p) => p.startsWith(`${showDir}: not a folder stash2plex made (a symlink)`))).toBe(
      true,
    );
    expect(readdirSync(outside).sort()).toEqual(["Season 2023", "precious.txt"]);
    expect(readlinkSync(stale)).toBe("/old");
    expect(readdirSync(join(outside, "Season 2023"))).toHaveLength(1);
    expect(lstatSync(join(tv, showDir)).isSymbolicLink()).toBe(true);
    // One-scene sync refuses the same way, removing nothing through the symlink.
    const one = dir.syncOne(
      { link: `${showDir}/Season 2023/Studio A - S2023E09990 - Old {s2p-st-99}.mp4`, path: "/old" },
      catalog.placementOf("st", "1"),
    );
    expect(one.removed + one.created).toBe(0);
    expect(readlinkSync(stale)).toBe("/old");
    // Studio B's show is unaffected.
    expect(tree(tv).some((p) => p.startsWith("Studio B Live {s2p-st2}/"))).toBe(true);
    expect(realpathSync(tv)).toBe(tv);
    expect(dirname(stale)).toBe(join(outside, "Season 2023"));
  });

  test("the folder itself: made when its parent exists, refused with the fix when not (an unmounted volume), usable through a symlink", async () => {
    const root = tempDir("s2p-tv-root-");
    const catalog = catalogFor();
    catalog.buildFrom(scenes);
    const wanted = wantedOf(catalog.placements("st"));
    await expect(episodeFolder(join(root, "missing", "tv")).sync(wanted)).rejects.toThrow(
      `the episode folder's parent ${join(root, "missing")} does not exist (is the volume mounted?): create it or fix the TV library's folder`,
    );
    expect(existsSync(join(root, "missing"))).toBe(false);
    writeFileSync(join(root, "file"), "x");
    await expect(episodeFolder(join(root, "file")).sync(wanted)).rejects.toThrow(EpisodeFolderError);
    mkdirSync(join(root, "real"));
    symlinkSync(join(root, "real"), join(root, "via-link"));
    expect((await episodeFolder(join(root, "via-link")).sync(wanted)).created).toBe(5);
    expect(tree(join(root, "real"))).toHaveLength(5);
  });

  test("a scene whose file is not a path on this system (a Windows Stash) gets no link, and the report says so (the first 50 of many)", async () => {
    const root = tempDir("s2p-tv-win-");
    const many = Array.from({ length: 120 }, (_, i) => ({
      link: `S {s2p-st1}/Season 2023/S - S2023E0${i} - T {s2p-st-${i}}.mp4`,
      path: `D:\\Scenes\\${i}.mp4`,
    }));
    const report = await episodeFolder(root).sync(many);
    expect(report.created).toBe(0);
    expect(report.problemCount).toBe(120);
    expect(report.problems).toHaveLength(50);
    expect(report.problems[0]).toBe(
      "S {s2p-st1}/Season 2023/S - S2023E00 - T {s2p-st-0}.mp4: the scene's file D:\\Scenes\\0.mp4 is not a path on this system: no link",
    );
    expect(readdirSync(root)).toEqual([]);
  });

  test("names a filesystem gives back decomposed (NFD, as macOS does) are the same links: kept, not made twice or removed", async () => {
    const root = tempDir("s2p-tv-nfd-");
    const catalog = catalogFor();
    const cafe = { ...scene("7", "2023-02-02", { id: "6", name: "Studio Étoile" }), title: "Café Noir" };
    catalog.buildFrom([cafe]);
    const wanted = wantedOf(catalog.placements("st"));
    const link = wanted[0]!.link;
    expect(link).toBe(link.normalize("NFC"));
    // The folder as a decomposing filesystem leaves it: every name in NFD.
    const nfd = link.normalize("NFD");
    mkdirSync(join(root, ...nfd.split("/").slice(0, 2)), { recursive: true });
    const { linkTarget } = await import("../../src/tv/episode-folder.ts");
    symlinkSync(linkTarget(root, link, wanted[0]!.path)!, join(root, nfd));
    const report = await episodeFolder(root).sync(wanted);
    expect(report).toMatchObject({ created: 0, removed: 0, unchanged: 1, problems: [] });
    expect(tree(root)).toEqual([nfd]);
    // Gone from the catalog: the NFD link (as found) is removed, and its folders.
    const empty = await episodeFolder(root).sync([]);
    expect(empty.removed).toBe(1);
    expect(readdirSync(root)).toEqual([]);
  });

  test("check lists scenes without a file or a studio (not placed) and undated ones (Specials), with where they went", () => {
    const catalog = catalogFor();
    const odd = [...scenes, { ...scenes[0]!, id: "8", files: [] }, { ...scenes[0]!, id: "9", studio: null }];
    catalog.buildFrom(odd);
    const entries = tvCheck(odd, ["st"], catalog.placementOf);
    expect(entries.map((e) => [e.sceneId, e.problem, e.where.split(" (")[0]])).toEqual([
      ["4", "undated → Specials", "Studio A {s2p-st1}/Specials/Studio A - S00E01 - Scene 4 {s2p-st-4}.mp4"],
      ["8", "no file", "not placed"],
      ["9", "no studio", "not placed"],
    ]);
  });
});

describe("the catalog of a 2,000-scene Stash", () => {
  let stash: StashSim;
  beforeAll(() => {
    stash = new StashSim({ scenes: 2000, seed: 7 }).start();
  });
  afterAll(() => stash.stop());

  test("build places every scene with a studio and a file exactly once; a rebuild changes nothing; numbers survive a restart", async () => {
    const dataDir = tempDir("s2p-tv-db-");
    const client = createStashClient({ url: stash.url, apiKey: "", timeoutMs: 10_000 });
    let store = openStore(dataDir);
    let catalog = createTvCatalog({ db: store.db, instance: "default", schemes: ["st", "sn", "gr"], pageSize: 500 });
    const first = await catalog.build(client);
    const lib = stash.library;
    const all = [...lib.scenes.values()];
    const withStudio = all.filter((s) => s.studio && s.files.length).length;
    const inGroups = all.filter((s) => s.groups.length && s.files.length).length;
    expect(catalog.placements("st")).toHaveLength(withStudio);
    expect(catalog.placements("sn")).toHaveLength(withStudio);
    expect(catalog.placements("gr")).toHaveLength(inGroups);
    expect(first.unplaced.filter((u) => u.scheme === "st")).toHaveLength(all.length - withStudio);
    // Every studio with a scene is one show; the episodes of the shows add up to the scenes.
    const studios = new Set(all.filter((s) => s.studio).map((s) => `st${s.studio!.id}`));
    const stShows = catalog.shows().filter((s) => s.id.startsWith("st"));
    expect(new Set(stShows.map((s) => s.id))).toEqual(studios);
    expect(stShows.reduce((n, s) => n + s.episodes, 0)).toBe(withStudio);
    // Top parent: the network's show holds its sub-studios' scenes.
    const network = catalog.show("sn100")!;
    expect(network.title).toBe("Mega Network");
    expect(network.episodes).toBe(all.filter((s) => s.studio?.parent_studio?.id === "100").length);
    // Seasons by year, episodes ordered.
    const seasons = catalog.seasons("st2");
    expect(seasons.every((s) => s.season === 0 || (s.season >= 2015 && s.season <= 2024))).toBe(true);
    const eps = catalog.episodes("st2", seasons.at(-1)!.season);
    expect(eps.map((e) => e.episode)).toEqual([...eps.map((e) => e.episode)].sort((a, b) => a - b));
    // Links are unique.
    const links = [...catalog.placements("st"), ...catalog.placements("sn"), ...catalog.placements("gr")].map(
      (p) => p.link,
    );
    expect(new Set(links).size).toBe(links.length);

    const again = await catalog.build(client);
    expect(again.changes).toEqual([]);

    // An older scene arrives: nothing renumbered.
    const before = new Map(catalog.placements("st").map((p) => [p.sceneId, p.episode]));
    const template = lib.scenes.get("2")!;
    lib.add({
      ...template,
      id: "2001",
      date: "2015-01-01",
      files: [{ ...template.files[0]!, path: "/data/stash/new.mp4" }],
    });
    const added = await catalog.build(client);
    expect(added.changes.map((c) => [c.scheme, c.sceneId, c.before])).toEqual([
      ["st", "2001", undefined],
      ["sn", "2001", undefined],
    ]);
    for (const p of catalog.placements("st")) if (p.sceneId !== "2001") expect(p.episode).toBe(before.get(p.sceneId)!);

    // Restart: the same database, a new catalog: the same numbers.
    store.close();
    store = openStore(dataDir);
    catalog = createTvCatalog({ db: store.db, instance: "default", schemes: ["st", "sn", "gr"], pageSize: 500 });
    expect((await catalog.build(client)).changes).toEqual([]);
    expect(catalog.placementOf("st", "2001")!.episode).toBe(1010);
    store.close();
  });

  test("start-up refuses an episode folder inside (or holding) a Stash library folder, read from Stash", async () => {
    const client = createStashClient({ url: stash.url, apiKey: "", timeoutMs: 5000 });
    const stashFolders = await client.libraryPaths();
    expect(stashFolders.length).toBeGreaterThan(0);
    const lib = (folder: string): TvLibrary => ({
      id: "tv1",
      instance: "default",
      layout: { layout: "studio", parentStudio: false },
      scheme: "st",
      folder,
    });
    const inside = await checkTvFolders([lib(`${stashFolders[0]}/tv-links`)], async () => client.libraryPaths());
    expect(inside.problems).toHaveLength(1);
    expect(inside.problems[0]).toContain("overlaps Stash's library folder");
    const holding = await checkTvFolders([lib("/")], async () => client.libraryPaths());
    expect(holding.problems).toHaveLength(1);
    const apart = await checkTvFolders([lib("/srv/tv-links")], async () => client.libraryPaths());
    expect(apart).toEqual({ problems: [], unchecked: [] });
    const down = await checkTvFolders([lib("/srv/tv-links")], async () => {
      throw new Error("down");
    });
    expect(down).toEqual({ problems: [], unchecked: ["default"] });
  });
});
