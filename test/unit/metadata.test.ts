import { describe, expect, test } from "bun:test";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import { groupToMetadata, sceneToMetadata, type MetadataContext } from "../../src/provider/metadata.ts";
import { DEFAULT_INSTANCE_ID, refFromGuid } from "../../src/domain/ref.ts";
import { PlexMetadata } from "../../src/schema/plex.ts";
import type { StashScene } from "../../src/schema/stash.ts";
import { mediaContainer, readPaging } from "../../src/provider/envelope.ts";

const ctx: MetadataContext = {
  identifier: "tv.plex.agents.custom.stash2plex",
  publicUrl: "http://s2p:8787",
  contentRating: "XXX",
  genreMode: "all",
  excludeTags: [],
  taglineFrom: "code",
};
const check = TypeCompiler.Compile(PlexMetadata);

const scene = (over: Partial<StashScene> = {}): StashScene => ({
  id: "42",
  title: "Golden Hour",
  code: "GH-1",
  details: " A summary. ",
  director: "Jane",
  urls: [],
  date: "2024-01-15",
  rating100: 85,
  organized: true,
  created_at: "2024-02-01T10:00:00Z",
  updated_at: "2024-02-02T10:00:00Z",
  files: [
    {
      id: "1",
      path: "/data/Studio/2024-01-15 Golden Hour.mp4",
      basename: "2024-01-15 Golden Hour.mp4",
      duration: 1234.5,
    },
  ],
  paths: { screenshot: "http://stash/scene/42/screenshot" },
  studio: { id: "3", name: "Vixenia", image_path: null, parent_studio: { id: "9", name: "Mega" } },
  performers: [
    { id: "7", name: "Alice", disambiguation: "US", image_path: "http://stash/performer/7/image" },
    { id: "8", name: "Bo", disambiguation: null, image_path: null },
  ],
  tags: [
    { id: "1", name: "Outdoor" },
    { id: "2", name: "4K" },
    { id: "3", name: "Romantic" },
  ],
  groups: [
    {
      scene_index: 1,
      group: { id: "5", name: "Series", synopsis: "About", date: null, front_image_path: "x", director: null },
    },
  ],
  scene_markers: [
    { id: "2", title: "", seconds: 100, end_seconds: null, primary_tag: { name: "Kiss" } },
    { id: "1", title: "Intro", seconds: 0, end_seconds: 50, primary_tag: { name: "Talk" } },
  ],
  stash_ids: [
    { endpoint: "https://stashdb.org/graphql", stash_id: "abc-123" },
    { endpoint: "not a url", stash_id: "x" },
  ],
  ...over,
});

describe("scene → Plex metadata", () => {
  test("maps every field Plex can show, valid per the contract", () => {
    const m = sceneToMetadata(scene(), ctx);
    expect(check.Check(m)).toBe(true);
    expect(m).toMatchObject({
      ratingKey: "42",
      key: "/library/metadata/42",
      guid: "tv.plex.agents.custom.stash2plex://movie/42",
      type: "movie",
      title: "Golden Hour",
      originallyAvailableAt: "2024-01-15",
      year: 2024,
      summary: "A summary.",
      studio: "Vixenia",
      tagline: "GH-1",
      contentRating: "XXX",
      isAdult: true,
      duration: 1234500,
      thumb: "http://s2p:8787/images/scene/42",
      art: "http://s2p:8787/images/scene/42",
    });
    expect(m.Studio).toEqual([{ tag: "Vixenia" }, { tag: "Mega" }]);
    expect(m.Role).toEqual([
      { tag: "Alice", role: "US", thumb: "http://s2p:8787/images/performer/7", order: 1 },
      { tag: "Bo", order: 2 },
    ]);
    expect(m.Director).toEqual([{ tag: "Jane" }]);
    expect(m.Genre).toEqual([{ tag: "Outdoor" }, { tag: "4K" }, { tag: "Romantic" }]);
    // Groups are kept as Plex collections through PMS's API (collections/keeper.ts), not served as tags.
    expect(m.Collection).toBeUndefined();
    expect(m.Rating).toEqual([
      { image: "tv.plex.agents.custom.stash2plex://image.rating", type: "audience", value: 8.5 },
    ]);
    expect(m.Chapter).toEqual([
      { tag: "Intro", index: 1, startTimeOffset: 0, endTimeOffset: 50000 },
      { tag: "Kiss", index: 2, startTimeOffset: 100000, endTimeOffset: 1234500 },
    ]);
    expect(m.Guid).toEqual([{ id: "stashdb://abc-123" }]);
    expect(m.Image?.map((i) => i.type)).toEqual(["coverPoster", "background"]);
    expect(m.addedAt).toBe(Date.parse("2024-02-01T10:00:00Z") / 1000);
  });

  test("a bare scene: title from the file name, date from created_at, nothing empty sent", () => {
    const m = sceneToMetadata(
      scene({
        title: null,
        date: null,
        studio: null,
        details: "",
        code: null,
        director: null,
        rating100: null,
        performers: [],
        tags: [],
        groups: [],
        scene_markers: [],
        stash_ids: [],
        paths: { screenshot: null },
      }),
      ctx,
    );
    expect(check.Check(m)).toBe(true);
    expect(m.title).toBe("2024-01-15 Golden Hour");
    expect(m.originallyAvailableAt).toBe("2024-02-01");
    for (const k of [
      "studio",
      "Studio",
      "summary",
      "tagline",
      "Role",
      "Genre",
      "Rating",
      "Chapter",
      "Guid",
      "Image",
      "thumb",
      "Director",
    ]) {
      expect(k in m).toBe(false);
    }
  });

  test("no files and no title: a stable placeholder title; invalid dates are not sent as dates", () => {
    const m = sceneToMetadata(scene({ title: "  ", files: [], date: "2024-02-30" }), ctx);
    expect(m.title).toBe("Scene 42");
    expect(m.originallyAvailableAt).toBe("2024-02-01");
    expect(m.duration).toBeUndefined();
  });

  test("genre modes and excluded tags", () => {
    const base = { ...ctx, excludeTags: ["4k"] };
    expect(sceneToMetadata(scene(), { ...base, genreMode: "all" }).Genre).toEqual([
      { tag: "Outdoor" },
      { tag: "Romantic" },
    ]);
    expect(sceneToMetadata(scene(), { ...base, genreMode: "first" }).Genre).toEqual([{ tag: "Outdoor" }]);
    expect(sceneToMetadata(scene(), { ...base, genreMode: "joined" }).Genre).toEqual([{ tag: "Outdoor, Romantic" }]);
  });

  test("content rating and tagline are configurable", () => {
    const m = sceneToMetadata(scene(), { ...ctx, contentRating: "", taglineFrom: "none" });
    expect(m.contentRating).toBeUndefined();
    expect(m.tagline).toBeUndefined();
  });

  test("groups become collections", () => {
    const m = groupToMetadata(
      {
        id: "5",
        name: "Series",
        synopsis: "About",
        date: "2023-04-01",
        front_image_path: null,
        director: null,
        scene_count: 3,
      },
      ctx,
    );
    expect(check.Check(m)).toBe(true);
    expect(m).toMatchObject({
      ratingKey: "g5",
      type: "collection",
      guid: "tv.plex.agents.custom.stash2plex://collection/g5",
      childCount: 3,
      year: 2023,
    });
  });

  test("only our own GUIDs give a scene id", () => {
    const sceneIdFromGuid = (guid: string | undefined) =>
      refFromGuid(guid, [{ id: DEFAULT_INSTANCE_ID, identifier: ctx.identifier }])?.id ?? null;
    expect(sceneIdFromGuid("tv.plex.agents.custom.stash2plex://movie/12")).toBe("12");
    expect(sceneIdFromGuid("tv.plex.agents.custom.stash2plex://movie/12?lang=en")).toBe("12");
    expect(sceneIdFromGuid("tv.plex.agents.custom.other://movie/12")).toBeNull();
    expect(sceneIdFromGuid("imdb://tt123")).toBeNull();
    expect(sceneIdFromGuid("tv.plex.agents.custom.stash2plex://movie/../1")).toBeNull();
    expect(sceneIdFromGuid(undefined)).toBeNull();
  });
});

describe("MediaContainer envelope and paging", () => {
  const items = Array.from({ length: 5 }, (_, i) => ({ type: "coverPoster" as const, url: `u${i}` }));
  test("pages by X-Plex-Container-Start/Size from query or headers", () => {
    const a = mediaContainer(
      "id",
      { Image: items },
      readPaging({ "X-Plex-Container-Start": "1", "X-Plex-Container-Size": "2" }, new Headers()),
    );
    expect(a.MediaContainer).toMatchObject({ offset: 1, size: 2, totalSize: 5 });
    expect(a.MediaContainer.Image?.map((i) => i.url)).toEqual(["u1", "u2"]);
    const b = mediaContainer("id", { Image: items }, readPaging({}, new Headers({ "X-Plex-Container-Start": "4" })));
    expect(b.MediaContainer).toMatchObject({ offset: 4, size: 1, totalSize: 5 });
  });
  test("bad paging values fall back to defaults", () => {
    expect(readPaging({ "X-Plex-Container-Start": "-3", "X-Plex-Container-Size": "abc" }, new Headers())).toEqual({
      start: 0,
      size: 20,
    });
  });
});
