/**
 * A scene gone from Stash leaves every TV library of its instance: the catalog forgets it once
 * for all of them, and each library removes its own link (real temp folders, real SQLite).
 */
import { expect, test } from "bun:test";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { silentLogger } from "../../src/log.ts";
import { createPathMapper } from "../../src/paths/mapper.ts";
import { openStore } from "../../src/store/db.ts";
import { createTvLibraries } from "../../src/sync/tv-libraries.ts";
import type { TvLibrary } from "../../src/tv/libraries.ts";
import type { TvScene } from "../../src/tv/placement.ts";
import { tempDir } from "../helpers.ts";

/** Every file under `root`, symlinks not followed. */
const filesUnder = (root: string): string[] =>
  readdirSync(root, { withFileTypes: true, recursive: true })
    .filter((e) => !e.isDirectory())
    .map((e) => e.name);

test("a scene gone from Stash: a studio library and a group library of one instance each remove its link, once", async () => {
  const root = tempDir("s2p-tv-gone-");
  const media = join(root, "media");
  mkdirSync(media);
  const scene = (id: string): TvScene => {
    const path = join(media, `${id}.mp4`);
    writeFileSync(path, `video ${id}`);
    return {
      id,
      title: `Scene ${id}`,
      date: "2023-04-12",
      studio: { id: "1", name: "Studio A", parent_studio: null },
      groups: [{ scene_index: Number(id), group: { id: "3", name: "Series" } }],
      files: [{ path }],
    };
  };
  const scenes = [scene("1"), scene("2")];
  const library = (id: string, layout: "studio" | "group", scheme: "st" | "gr"): TvLibrary => {
    const folder = join(root, id);
    mkdirSync(folder);
    return { id, instance: "default", layout: { layout, parentStudio: false }, scheme, folder };
  };
  const libraries = [library("sites", "studio", "st"), library("series", "group", "gr")];
  const store = openStore(join(root, "data"));
  try {
    const tv = createTvLibraries({
      db: store.db,
      instance: "default",
      libraries,
      // Without Plex only the catalog's page of scenes is read (the show upkeep's reads need Plex).
      stash: { tvScenesPage: async () => ({ count: scenes.length, items: scenes }) } as unknown as Parameters<
        typeof createTvLibraries
      >[0]["stash"],
      mapper: createPathMapper([]),
      log: silentLogger,
    });
    await tv.fullSync();
    for (const lib of libraries) expect(filesUnder(lib.folder)).toHaveLength(2);

    for (const port of tv.ports) expect((await port.remove!("1")).length).toBeGreaterThan(0);
    expect(filesUnder(libraries[0]!.folder)).toEqual([expect.stringContaining("{s2p-st-2}")]);
    expect(filesUnder(libraries[1]!.folder)).toEqual([expect.stringContaining("{s2p-gr-2}")]);
    expect(tv.catalog.placementOf("st", "1")).toBeUndefined();
    expect(tv.catalog.placementOf("gr", "1")).toBeUndefined();
    // Told again (a retried push): nothing is left to remove, nothing else is touched.
    for (const port of tv.ports) expect(await port.remove!("1")).toEqual([]);
    for (const lib of libraries) expect(filesUnder(lib.folder)).toHaveLength(1);
  } finally {
    store.close();
  }
});
