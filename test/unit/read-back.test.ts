/** Read-back (src/sync/read-back.ts): an edit of the performers or tags alone is not read back as delivered. */
import { expect, test } from "bun:test";
import { readBackDiffers } from "../../src/sync/read-back.ts";
import type { PlexMetadata } from "../../src/schema/plex.ts";

const served = {
  title: "T",
  originallyAvailableAt: "2020-01-02",
  Genre: [{ tag: "Solo" }],
  Role: [{ tag: "Gina Gold", order: 1 }],
} as unknown as PlexMetadata;
const shown = { type: "movie", title: "T", originallyAvailableAt: "2020-01-02", Genre: [{ tag: "Solo" }] };

test("a movie item still showing the old performers differs (found by the chaos soak: a performers-only edit was lost)", () => {
  expect(readBackDiffers(served, { ...shown, Role: [{ tag: "Dana Lee" }, { tag: "Gina Gold" }] })).toEqual([
    "performers",
  ]);
  expect(readBackDiffers(served, { ...shown, Role: [{ tag: "Gina Gold" }] })).toEqual([]);
});

test("an episode still showing the old tags differs too (the chaos soak: a tags edit whose refresh PMS never fetched); a studio it does not have does not", () => {
  const episode = { ...shown, type: "episode", Role: [{ tag: "Gina Gold" }] };
  expect(readBackDiffers({ ...served, studio: "Site" } as PlexMetadata, episode)).toEqual([]);
  expect(readBackDiffers(served, { ...episode, Genre: [] })).toEqual(["genres"]);
  expect(readBackDiffers(served, { ...episode, Genre: undefined })).toEqual(["genres"]);
});
