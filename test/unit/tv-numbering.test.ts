/** Stable episode numbers (src/tv/numbering.ts), through placement as the catalog uses them. */
import { describe, expect, test } from "bun:test";
import { type Numbered, numberEpisodes, type Wanted } from "../../src/tv/numbering.ts";
import { placeScene, type TvScene } from "../../src/tv/placement.ts";
import type { ShowScheme } from "../../src/domain/ref.ts";

const studio = { id: "12", name: "Studio A", parent_studio: null };
const s = (id: string, date: string | null, patch: Partial<TvScene> = {}): TvScene => ({
  id,
  title: `Scene ${id}`,
  date,
  studio,
  groups: [],
  files: [{ path: `/x/${id}.mp4` }],
  ...patch,
});
const wantOf = (scene: TvScene, scheme: ShowScheme = "st"): Wanted => {
  const placed = placeScene(scene, scheme);
  if (!placed.ok) throw new Error(placed.reason);
  return placed.place;
};

/** One pass as the catalog runs it: the rows held before, the scenes now (a full pass). */
function pass(held: Numbered[], scenes: TvScene[], scheme: ShowScheme = "st") {
  const { numbered, notes } = numberEpisodes(
    [],
    new Map(held.map((n) => [n.sceneId, n])),
    scenes.map((x) => wantOf(x, scheme)),
  );
  return { rows: numbered, notes, of: (id: string) => numbered.find((n) => n.sceneId === id) };
}
const ep = (rows: Numbered[], id: string) => {
  const n = rows.find((r) => r.sceneId === id)!;
  return [n.season, n.episode];
};

describe("studio layout: MMDD*10 + k", () => {
  test("a day's scenes take its slots in date-then-id order", () => {
    const { rows } = pass([], [s("9", "2023-04-12"), s("3", "2023-04-12"), s("5", "2023-12-31"), s("1", "2024-01-01")]);
    expect(ep(rows, "3")).toEqual([2023, 4120]);
    expect(ep(rows, "9")).toEqual([2023, 4121]);
    expect(ep(rows, "5")).toEqual([2023, 12310]);
    expect(ep(rows, "1")).toEqual([2024, 1010]);
  });

  test("adding an older scene later renumbers nothing", () => {
    const first = pass([], [s("10", "2023-04-12"), s("11", "2023-04-12"), s("12", "2023-06-01"), s("13", null)]);
    // Scene 2 is older (lower id, same day and an earlier day) than the scenes numbered before it.
    const second = pass(first.rows, [
      s("2", "2023-04-12"),
      s("10", "2023-04-12"),
      s("11", "2023-04-12"),
      s("12", "2023-06-01"),
      s("3", "2023-01-01"),
      s("13", null),
      s("1", null),
    ]);
    for (const row of first.rows) expect(second.of(row.sceneId)).toEqual(row);
    expect(ep(second.rows, "2")).toEqual([2023, 4122]);
    expect(ep(second.rows, "3")).toEqual([2023, 1010]);
    expect(ep(second.rows, "1")).toEqual([0, 2]);
  });

  test("past ten scenes a day: the next free number", () => {
    const day = Array.from({ length: 12 }, (_, i) => s(String(i + 1), "2023-04-12"));
    const { rows } = pass([], [...day, s("50", "2023-04-13")]);
    expect(day.map((x) => ep(rows, x.id)[1])).toEqual([
      4120, 4121, 4122, 4123, 4124, 4125, 4126, 4127, 4128, 4129, 4130, 4131,
    ]);
    expect(ep(rows, "50")).toEqual([2023, 4132]);
    expect(new Set(rows.map((r) => r.episode)).size).toBe(rows.length);
  });

  test("a scene that moves (another year, another day, another studio) gets a number in its new place; the others keep theirs", () => {
    const first = pass([], [s("1", "2023-04-12"), s("2", "2023-04-12"), s("3", "2023-04-12")]);
    expect(ep(first.rows, "2")).toEqual([2023, 4121]);
    const moved = pass(first.rows, [s("1", "2023-04-12"), s("2", "2021-04-12"), s("3", "2023-04-12")]);
    expect(ep(moved.rows, "2")).toEqual([2021, 4120]);
    expect(ep(moved.rows, "1")).toEqual([2023, 4120]);
    expect(ep(moved.rows, "3")).toEqual([2023, 4122]);
    // Back to its old day: slot 1 is free again and it is the first free one.
    const back = pass(moved.rows, [s("1", "2023-04-12"), s("2", "2023-04-12"), s("3", "2023-04-12")]);
    expect(ep(back.rows, "2")).toEqual([2023, 4121]);
    // Another day of the same year is a move too.
    const day = pass(back.rows, [s("1", "2023-04-12"), s("2", "2023-04-13"), s("3", "2023-04-12")]);
    expect(ep(day.rows, "2")).toEqual([2023, 4130]);
    const other = pass(day.rows, [s("1", "2023-04-12"), s("2", "2023-04-13", { studio: { id: "7", name: "B" } })]);
    expect(other.of("2")).toMatchObject({ showId: "st7", season: 2023, episode: 4130 });
  });

  test("Season 0 numbers go on from the highest given (a removed scene's number is not handed out again)", () => {
    const first = pass([], [s("5", null), s("6", null), s("7", null)]);
    expect([ep(first.rows, "5"), ep(first.rows, "6"), ep(first.rows, "7")]).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
    ]);
    const later = pass(
      first.rows.filter((r) => r.sceneId !== "6"),
      [s("5", null), s("7", null), s("1", null)],
    );
    expect(ep(later.rows, "1")).toEqual([0, 4]);
  });

  test("only the scenes looked at are numbered; fixed rows only occupy", () => {
    const fixed: Numbered[] = [{ sceneId: "1", showId: "st12", season: 2023, episode: 4120, want: "st12/2023/d412" }];
    const { numbered } = numberEpisodes(fixed, new Map(), [wantOf(s("9", "2023-04-12"))]);
    expect(numbered).toEqual([{ sceneId: "9", showId: "st12", season: 2023, episode: 4121, want: "st12/2023/d412" }]);
  });
});

describe("group layout", () => {
  const inGroup = (id: string, index: number | null, date: string | null = "2023-01-01") =>
    s(id, date, { groups: [{ scene_index: index, group: { id: "3", name: "Series" } }] });

  test("a group with indexes 1..n is episodes 1..n of Season 1", () => {
    const scenes = [5, 3, 1, 4, 2].map((i) => inGroup(String(100 + i), i));
    const { rows, notes } = pass([], scenes, "gr");
    expect(scenes.map((x) => ep(rows, x.id))).toEqual([5, 3, 1, 4, 2].map((i) => [1, i]));
    expect(notes).toEqual([]);
  });

  test("two scenes claiming one index: the lower scene id keeps it, the other goes to Season 0 and a note says so", () => {
    const { rows, notes } = pass([], [inGroup("50", 3), inGroup("20", 3), inGroup("7", null)], "gr");
    expect(ep(rows, "20")).toEqual([1, 3]);
    expect(ep(rows, "7")).toEqual([0, 1]);
    expect(ep(rows, "50")).toEqual([0, 2]);
    expect(notes).toEqual([{ sceneId: "50", message: "index 3 is held by scene 20: goes to Season 0 as episode 2" }]);
  });

  test("a scene holding an index keeps it when another claims it later; the newcomer waits in Season 0 and takes the index once free", () => {
    const first = pass([], [inGroup("50", 3)], "gr");
    const second = pass(first.rows, [inGroup("50", 3), inGroup("20", 3)], "gr");
    expect(ep(second.rows, "50")).toEqual([1, 3]);
    expect(ep(second.rows, "20")).toEqual([0, 1]);
    const again = pass(second.rows, [inGroup("50", 3), inGroup("20", 3)], "gr");
    expect(ep(again.rows, "20")).toEqual([0, 1]);
    expect(again.notes).toEqual([{ sceneId: "20", message: "index 3 is held by scene 50: stays in Season 0" }]);
    const freed = pass(again.rows, [inGroup("50", 9), inGroup("20", 3)], "gr");
    expect(ep(freed.rows, "50")).toEqual([1, 9]);
    expect(ep(freed.rows, "20")).toEqual([1, 3]);
  });

  test("Season 0 of a group: in order of arrival, by date then id", () => {
    const { rows } = pass(
      [],
      [inGroup("1", null, "2024-01-01"), inGroup("2", null, "2020-01-01"), inGroup("3", null, null)],
      "gr",
    );
    expect([ep(rows, "2"), ep(rows, "1"), ep(rows, "3")]).toEqual([
      [0, 1],
      [0, 2],
      [0, 3],
    ]);
    // A date change in Season 0 of a group moves nothing (the number was given on arrival).
    const later = pass(
      rows,
      [inGroup("1", null, "2019-01-01"), inGroup("2", null, "2020-01-01"), inGroup("3", null, null)],
      "gr",
    );
    expect(later.rows).toEqual(expect.arrayContaining(rows));
  });
});
