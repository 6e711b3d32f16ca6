/** Placement (src/tv/placement.ts) and the names of the episode folder (src/tv/names.ts). */
import { describe, expect, test } from "bun:test";
import { placeScene, type TvScene } from "../../src/tv/placement.ts";
import { episodeCode, linkPath, sanitize, showFolderName, tokenOf } from "../../src/tv/names.ts";

const network = { id: "100", name: "Mega Network" };
const scene = (patch: Partial<TvScene> = {}): TvScene => ({
  id: "42",
  title: "Sunset Walk",
  date: "2023-04-12",
  studio: { id: "12", name: "Studio A", parent_studio: network },
  groups: [],
  files: [{ path: "/data/a/walk.mp4" }],
  ...patch,
});

describe("studio layout", () => {
  test("a studio's show, a season per year, the day it asks for", () => {
    const placed = placeScene(scene(), "st");
    expect(placed).toEqual({
      ok: true,
      place: {
        sceneId: "42",
        scheme: "st",
        showId: "st12",
        showTitle: "Studio A",
        season: 2023,
        claim: { kind: "day", day: 412 },
        date: "2023-04-12",
        want: "st12/2023/d412",
      },
    });
  });

  test("parentStudio: the top parent studio's show; a studio without a parent is its own network", () => {
    const placed = placeScene(scene(), "sn");
    expect(placed.ok && [placed.place.showId, placed.place.showTitle]).toEqual(["sn100", "Mega Network"]);
    const alone = placeScene(scene({ studio: { id: "7", name: "Indie", parent_studio: null } }), "sn");
    expect(alone.ok && alone.place.showId).toBe("sn7");
  });

  test("undated (or a date that is not one) → Season 0, numbered on arrival", () => {
    for (const date of [null, "", "2023-13-01", "garbage"]) {
      const placed = placeScene(scene({ date }), "st");
      expect(placed.ok && [placed.place.season, placed.place.claim.kind, placed.place.date]).toEqual([
        0,
        "arrival",
        null,
      ]);
    }
  });

  test("not placed: no studio, no file — and it says why", () => {
    expect(placeScene(scene({ studio: null }), "st")).toEqual({ ok: false, reason: "no studio" });
    expect(placeScene(scene({ files: [] }), "st")).toEqual({ ok: false, reason: "no file (nothing to link)" });
  });
});

describe("group layout", () => {
  const g = (id: string, scene_index: number | null) => ({ scene_index, group: { id, name: `Group ${id}` } });
  test("with an index: Season 1, the index asked for", () => {
    const placed = placeScene(scene({ groups: [g("3", 4)] }), "gr");
    expect(placed.ok && placed.place).toMatchObject({
      showId: "gr3",
      showTitle: "Group 3",
      season: 1,
      want: "gr3/1/i4",
    });
  });
  test("without an index: Season 0 by arrival; a negative or fractional index counts as none", () => {
    for (const index of [null, -1, 2.5]) {
      const placed = placeScene(scene({ groups: [g("3", index)] }), "gr");
      expect(placed.ok && [placed.place.season, placed.place.claim.kind]).toEqual([0, "arrival"]);
    }
  });
  test("in several groups: one episode, in the first group (by id) where it has an index", () => {
    const placed = placeScene(scene({ groups: [g("9", 2), g("2", null), g("5", 7)] }), "gr");
    expect(placed.ok && placed.place.showId).toBe("gr5");
    const none = placeScene(scene({ groups: [g("9", null), g("2", null)] }), "gr");
    expect(none.ok && none.place.showId).toBe("gr2");
  });
  test("in no group: not placed", () => {
    expect(placeScene(scene({ groups: [] }), "gr")).toEqual({ ok: false, reason: "in no group" });
  });
});

describe("names", () => {
  const parts = {
    scheme: "st" as const,
    sceneId: "42",
    showId: "st12",
    showTitle: "Studio A",
    season: 2023,
    episode: 4120,
    title: "Sunset Walk",
    path: "/data/a/walk.MP4",
  };
  test("the layout Plex's TV scanner reads, with tokens", () => {
    expect(linkPath(parts)).toBe(
      "Studio A {s2p-st12}/Season 2023/Studio A - S2023E04120 - Sunset Walk {s2p-st-42}.MP4",
    );
    expect(linkPath({ ...parts, season: 0, episode: 3 })).toBe(
      "Studio A {s2p-st12}/Specials/Studio A - S00E03 - Sunset Walk {s2p-st-42}.MP4",
    );
    expect(episodeCode(1, 4)).toBe("S01E04");
  });
  test("Plex's episode pattern reads season and episode back from the name", () => {
    const name = linkPath(parts).split("/").at(-1)!;
    const m = /[sS](?<season>[0-9]+)[._ ]*[eE](?<ep>[0-9]+)/.exec(name)!;
    expect([Number(m.groups!.season), Number(m.groups!.ep)]).toEqual([2023, 4120]);
  });
  test("sanitised for every filesystem: reserved characters, control characters, trailing dots and spaces", () => {
    expect(sanitize('a/b\\c:d*e?f"g<h>i|j\u0001k\u007f. ')).toBe("a b c d e f g h i j k");
    expect(sanitize("...hidden")).toBe("hidden");
    const link = linkPath({ ...parts, showTitle: "AC/DC: Live?", title: "What? <Yes>..." });
    expect(link).toBe("AC DC Live {s2p-st12}/Season 2023/AC DC Live - S2023E04120 - What Yes {s2p-st-42}.MP4");
  });
  test("at most 255 bytes a component, cut by whole characters, the token kept", () => {
    const link = linkPath({ ...parts, showTitle: "東".repeat(200), title: "😀".repeat(200) });
    for (const part of link.split("/")) expect(Buffer.byteLength(part)).toBeLessThanOrEqual(255);
    expect(link).not.toContain("\ufffd");
    expect(tokenOf(link.split("/")[0]!)).toEqual({ kind: "show", showId: "st12" });
    expect(tokenOf(link.split("/")[2]!)).toEqual({ kind: "episode", scheme: "st", sceneId: "42" });
  });
  test("tokenOf: the last token counts; a name without one is null", () => {
    expect(tokenOf("x {s2p-gr-1} - y {s2p-sn-77}.mkv")).toEqual({ kind: "episode", scheme: "sn", sceneId: "77" });
    expect(tokenOf(showFolderName("Group", "gr3"))).toEqual({ kind: "show", showId: "gr3" });
    expect(tokenOf("holiday.mp4")).toBeNull();
    expect(tokenOf("x {s2p-xx-1}.mp4")).toBeNull();
    expect(tokenOf("x {s2p-st-1} copy.mp4")).toBeNull();
  });
  test("a show name Plex would read an episode code from is left out of the file name (the folder names the show)", () => {
    const link = linkPath({ ...parts, showTitle: "Studio S3E4" });
    expect(link).toBe("Studio S3E4 {s2p-st12}/Season 2023/S2023E04120 - Sunset Walk {s2p-st-42}.MP4");
    const m = /[sS](?<season>[0-9]+)[._ ]*[eE](?<ep>[0-9]+)/.exec(link.split("/").at(-1)!)!;
    expect([m.groups!.season, m.groups!.ep]).toEqual(["2023", "04120"]);
  });
  test("a scene without a title is named by its file", () => {
    expect(linkPath({ ...parts, title: "" })).toContain(" - S2023E04120 - Scene 42 {s2p-st-42}");
  });
});
