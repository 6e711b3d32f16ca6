import { describe, expect, test } from "bun:test";
import { currentValues, fieldValues, planEdits } from "../../src/sync/edit-fields.ts";
import type { PlexMetadata } from "../../src/schema/plex.ts";
import { EDIT_FIELDS } from "../../src/config/schema.ts";

const meta: PlexMetadata = {
  ratingKey: "1",
  key: "/library/metadata/1",
  guid: "tv.plex.agents.custom.stash2plex://movie/1",
  type: "movie",
  title: "Golden Hour",
  summary: "Sum",
  originallyAvailableAt: "2024-01-15",
  studio: "Vixenia",
  tagline: "GH-1",
  contentRating: "XXX",
  Genre: [{ tag: "Outdoor" }, { tag: "4K" }],
  Role: [{ tag: "Alice" }],
  Rating: [{ image: "x", type: "audience", value: 8.5 }],
};

describe("edit strategy fields", () => {
  test("every enabled field is written and locked; lists become indexed tags", () => {
    const plan = planEdits(meta, EDIT_FIELDS, undefined, {});
    expect(plan.query).toMatchObject({
      "title.value": "Golden Hour",
      "title.locked": "1",
      "summary.value": "Sum",
      "originallyAvailableAt.value": "2024-01-15",
      "studio.value": "Vixenia",
      "tagline.value": "GH-1",
      "contentRating.value": "XXX",
      "rating.value": "8.5",
      "genre[0].tag.tag": "Outdoor",
      "genre[1].tag.tag": "4K",
      "genre.locked": "1",
      "actor[0].tag.tag": "Alice",
    });
    // Collections are kept whole by the collection keeper, never written (or locked) as an item's tags.
    expect(Object.keys(plan.query).filter((k) => k.startsWith("collection"))).toEqual([]);
    expect(plan.keptUserEdits).toEqual([]);
  });

  test("fields turned off are not touched", () => {
    const plan = planEdits(meta, ["title"], undefined, {});
    expect(Object.keys(plan.query).sort()).toEqual(["title.locked", "title.value"]);
  });

  test("a field the user changed in Plex since our last write is kept; unchanged ones are updated", () => {
    const lastWritten = fieldValues({ ...meta, title: "Old title", summary: "Old sum" });
    const current = currentValues({ title: "User's title", summary: "Old sum" });
    const plan = planEdits(meta, ["title", "summary"], current, lastWritten);
    expect(plan.keptUserEdits).toEqual(["title"]);
    expect(plan.query["title.value"]).toBeUndefined();
    expect(plan.query["summary.value"]).toBe("Sum");
  });
});

describe("library folders", () => {
  test("a path is inside a folder only at a separator", async () => {
    const { isInside } = await import("../../src/sync/push.ts");
    expect(isInside("/media/Scenes/a.mp4", "/media/Scenes")).toBe(true);
    expect(isInside("/media/Scenes/a.mp4", "/media/Scenes/")).toBe(true);
    expect(isInside("/media/ScenesOld/a.mp4", "/media/Scenes")).toBe(false);
    expect(isInside("D:\\Lib\\a.mp4", "D:\\Lib")).toBe(true);
    expect(isInside("D:\\Library\\a.mp4", "D:\\Lib")).toBe(false);
  });
});
