/**
 * The Plex index job's look for items without our artwork, in pages (issue 26): the Plex index
 * gives the items bound to a provider a page at a time, the artwork state reads a page's records
 * in one query. Real SQLite in a temp folder.
 */
import { describe, expect, test } from "bun:test";
import { openStore } from "../../src/store/db.ts";
import { createPlexIndex } from "../../src/sync/plex-index.ts";
import { type ArtRecord, createArtworkState } from "../../src/sync/artwork-state.ts";
import type { PlexItem } from "../../src/plex/client.ts";
import { tempDir } from "../helpers.ts";

const MOVIE = "tv.plex.agents.custom.stash2plex://movie/";

/** A Plex index over one section of these items (a fake section listing, paged as PMS pages). */
async function indexOf(items: PlexItem[]) {
  const store = openStore(tempDir());
  const plex = {
    sectionItems: async (_section: string, start: number, size: number) => ({
      total: items.length,
      items: items.slice(start, start + size),
    }),
  };
  const index = createPlexIndex(store, plex);
  await index.refresh([{ key: "1", type: "movie" }]);
  return { store, index };
}

const item = (ratingKey: string, guid: string): PlexItem => ({
  ratingKey,
  guid,
  title: `Item ${ratingKey}`,
  updatedAt: 1,
  files: [`/media/${ratingKey}.mp4`],
});

describe("Plex index: the items bound to a provider, in pages", () => {
  test("every item of the prefix once, in GUID order, a page at a time; a GUID two items share gives both", async () => {
    const items: PlexItem[] = [];
    for (let i = 1; i <= 1203; i++) items.push(item(String(10_000 + i), `${MOVIE}${i}`));
    // A scene with two files: two items, one GUID, and the page boundary between them.
    items.push(item("20500", `${MOVIE}${500}`));
    items.push(item("30001", "com.plexapp.agents.none://9"), item("30002", "tv.plex.agents.custom.other://movie/1"));
    const { index } = await indexOf(items);

    const pages = [...index.withGuidPrefix(MOVIE, 500)];
    expect(pages.map((p) => p.length)).toEqual([500, 500, 204]);
    const all = pages.flat();
    expect(new Set(all.map((i) => i.ratingKey)).size).toBe(1204);
    expect(all.every((i) => i.guid.startsWith(MOVIE))).toBe(true);
    const order = all.map((i) => `${i.guid}\0${i.ratingKey}`);
    expect(order).toEqual([...order].sort());
    expect(all.filter((i) => i.guid === `${MOVIE}500`).map((i) => i.ratingKey)).toEqual(["10500", "20500"]);
    expect([...index.withGuidPrefix("tv.plex.agents.custom.stash2plex://episode/")]).toEqual([]);
  });
});

describe("artwork state: recordedMany", () => {
  const record = (n: number): ArtRecord => ({ source: `scene/${n}@1`, hash: `h${n}`, shown: `/t/${n}`, at: n });

  test("gives what `of` gives for every key asked, {} for an item holding nothing of ours", () => {
    const state = createArtworkState(openStore(tempDir()));
    state.rememberAll([
      { ratingKey: "1", element: "posters", record: record(1) },
      { ratingKey: "1", element: "arts", record: record(2) },
      { ratingKey: "2", element: "posters", record: record(3) },
      { ratingKey: "9", element: "arts", record: record(4) },
    ]);
    const keys = ["1", "2", "3", 'it\'s "odd"'];
    const many = state.recordedMany(keys);
    expect([...many.keys()]).toEqual(keys);
    for (const key of keys) expect(many.get(key)).toEqual(state.of(key));
    expect(many.get("1")).toEqual({ posters: record(1), arts: record(2) });
    expect(many.get("3")).toEqual({});
    expect(state.recordedMany([]).size).toBe(0);
  });

  test("thousands of keys in one call", () => {
    const state = createArtworkState(openStore(tempDir()));
    state.rememberAll(
      Array.from({ length: 5000 }, (_, i) => ({
        ratingKey: String(i),
        element: "posters" as const,
        record: record(i),
      })),
    );
    const keys = Array.from({ length: 6000 }, (_, i) => String(i));
    const many = state.recordedMany(keys);
    expect(many.size).toBe(6000);
    expect(many.get("4999")).toEqual({ posters: record(4999) });
    expect(many.get("5000")).toEqual({});
  });
});
