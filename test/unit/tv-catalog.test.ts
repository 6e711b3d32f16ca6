/** The TV catalog over real SQLite (in memory): one-scene updates, renames, removal, the TvCatalog reads. */
import { describe, expect, test } from "bun:test";
import { openStore } from "../../src/store/db.ts";
import { createTvCatalog } from "../../src/tv/catalog.ts";
import type { TvScene } from "../../src/tv/placement.ts";

const studio = (id: string, name: string) => ({ id, name, parent_studio: null });
const s = (id: string, date: string | null, patch: Partial<TvScene> = {}): TvScene => ({
  id,
  title: `Scene ${id}`,
  date,
  studio: studio("1", "Studio A"),
  groups: [],
  files: [{ path: `/media/${id}.mp4` }],
  ...patch,
});
const fresh = (schemes: ("st" | "sn" | "gr")[] = ["st"]) =>
  createTvCatalog({ db: openStore(":memory:").db, instance: "default", schemes });

describe("the TV catalog", () => {
  test("update of an unchanged scene changes nothing; a title change keeps the link's name (Plex knows files by path)", () => {
    const catalog = fresh();
    const scenes = [s("1", "2023-04-12"), s("2", "2023-04-12"), s("3", null)];
    catalog.buildFrom(scenes);
    expect(catalog.update(scenes[0]!).changes).toEqual([]);
    const { changes } = catalog.update({ ...scenes[1]!, title: "New Name" });
    expect(changes).toHaveLength(1);
    expect(changes[0]!.before!.episode).toBe(changes[0]!.after!.episode);
    expect(changes[0]!.after!.title).toBe("New Name");
    expect(changes[0]!.after!.link).toBe(changes[0]!.before!.link);
    // A scene new to the show takes the name of its day, in the show's folder.
    const added = catalog.update(s("4", "2023-05-01", { title: "Fresh" })).changes[0]!.after!;
    expect(added.link).toBe("Studio A {s2p-st1}/Season 2023/Studio A - S2023E05010 - Fresh {s2p-st-4}.mp4");
  });

  test("a one-scene update numbers like a full pass: an older scene takes a free slot, nothing else moves", () => {
    const catalog = fresh();
    catalog.buildFrom([s("10", "2023-04-12"), s("11", "2023-04-12")]);
    const { changes } = catalog.update(s("2", "2023-04-12"));
    expect(changes.map((c) => [c.sceneId, c.before, c.after?.episode])).toEqual([["2", undefined, 4122]]);
    expect(catalog.episodes("st1", 2023).map((p) => [p.sceneId, p.episode])).toEqual([
      ["10", 4120],
      ["11", 4121],
      ["2", 4122],
    ]);
  });

  test("a studio renamed: its show takes the new title, its folder and links keep their names (numbers kept)", () => {
    const catalog = fresh();
    catalog.buildFrom([
      s("1", "2023-04-12"),
      s("2", "2022-01-01"),
      s("3", null),
      s("4", "2023-01-01", { studio: studio("2", "B") }),
    ]);
    expect(catalog.show("st1")!.title).toBe("Studio A"); // read (and kept) before the rename
    expect(catalog.seasons("st1").map((x) => x.season)).toEqual([0, 2022, 2023]);
    const { changes } = catalog.update(s("1", "2023-04-12", { studio: studio("1", "Studio Z") }));
    expect(changes.map((c) => c.sceneId).sort()).toEqual(["1", "2", "3"]);
    for (const c of changes) {
      expect(c.after!.episode).toBe(c.before!.episode);
      expect(c.after!.showTitle).toBe("Studio Z");
      expect(c.after!.link).toBe(c.before!.link);
    }
    expect(catalog.show("st1")).toEqual({ id: "st1", title: "Studio Z", seasons: 3, episodes: 3 });
    // A scene joining the renamed show goes into the folder it has.
    const joined = catalog.update(s("5", "2024-02-02", { studio: studio("1", "Studio Z") })).changes[0]!.after!;
    expect(joined.link.startsWith("Studio A {s2p-st1}/Season 2024/")).toBe(true);
  });

  test("a scene moving to another studio leaves its old show; remove() takes it out of every scheme", () => {
    const catalog = fresh(["st", "sn", "gr"]);
    const grouped = { groups: [{ scene_index: 1, group: { id: "3", name: "Series" } }] };
    catalog.buildFrom([s("1", "2023-04-12", grouped), s("2", "2023-04-12")]);
    const { changes } = catalog.update(s("1", "2023-04-12", { ...grouped, studio: studio("9", "Other") }));
    expect(changes.map((c) => [c.scheme, c.before?.showId, c.after?.showId])).toEqual([
      ["st", "st1", "st9"],
      ["sn", "sn1", "sn9"],
    ]);
    // Listed by title: Other (its two schemes), Series, Studio A (scene 2 stays).
    expect(catalog.shows().map((x) => [x.id, x.episodes])).toEqual([
      ["sn9", 1],
      ["st9", 1],
      ["gr3", 1],
      ["sn1", 1],
      ["st1", 1],
    ]);
    const removed = catalog.remove("1");
    expect(removed.map((c) => c.scheme)).toEqual(["st", "sn", "gr"]);
    expect(catalog.shows().map((x) => x.id)).toEqual(["sn1", "st1"]);
    expect(catalog.placementOf("gr", "1")).toBeUndefined();
    expect(catalog.size()).toBe(2);
  });

  test("group layout through the catalog: a later claim of a held index waits in Specials, then takes it once free", () => {
    const catalog = fresh(["gr"]);
    const g = (index: number | null) => ({ groups: [{ scene_index: index, group: { id: "3", name: "Series" } }] });
    catalog.buildFrom([s("50", null, g(3)), s("51", null, g(1))]);
    const late = catalog.update(s("20", null, g(3)));
    expect(late.notes).toEqual([
      { scheme: "gr", sceneId: "20", message: "index 3 is held by scene 50: goes to Season 0 as episode 1" },
    ]);
    expect(catalog.placementOf("gr", "20")).toMatchObject({ season: 0, episode: 1 });
    catalog.update(s("50", null, g(7)));
    const freed = catalog.update(s("20", null, g(3)));
    expect(freed.changes.map((c) => [c.before?.season, c.after?.season, c.after?.episode])).toEqual([[0, 1, 3]]);
    expect(catalog.seasons("gr3")).toEqual([{ showId: "gr3", season: 1, episodes: 3 }]);
  });
});

describe("the TV catalog's full build, paced (issue 26)", () => {
  const source = (scenes: TvScene[]) => ({
    tvScenesPage: async (page: number, perPage: number) => ({
      count: scenes.length,
      items: scenes.slice((page - 1) * perPage, page * perPage),
    }),
  });

  test("hands the event loop back between scenes, and places every scene as the unpaced pass does", async () => {
    const scenes = Array.from({ length: 50 }, (_, i) => s(String(i + 1), `2023-0${(i % 9) + 1}-12`));
    let pauses = 0;
    const paced = createTvCatalog({
      db: openStore(":memory:").db,
      instance: "default",
      schemes: ["st"],
      pause: async () => void pauses++,
    });
    await paced.build(source(scenes));
    expect(pauses).toBe(50); // one a scene placed
    const unpaced = fresh();
    unpaced.buildFrom(scenes);
    expect(paced.placements("st")).toEqual(unpaced.placements("st"));
  });
});
