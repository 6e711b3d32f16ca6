/**
 * When an item's image is looked at again (sync/artwork.ts needOf): Stash's image version is its
 * updated_at to the second, so a cover replaced within the second we took the last one keeps the
 * version (found by the chaos soak: Plex kept the older cover). A record taken within that second
 * is looked at again (its bytes decide); one taken safely after it is the newest.
 */
import { describe, expect, test } from "bun:test";
import { needOf, sourceKey, type ImageSource } from "../../src/sync/artwork.ts";

const want: ImageSource = { kind: "scene", id: "64", version: "1767225600" }; // 2026-01-01T00:00:00Z
const second = Number(want.version) * 1000;
const record = (at: number) => ({ source: sourceKey(want), hash: "h", shown: null, at });

describe("an image of the same version", () => {
  test("taken within its second (or our clocks' slack) is looked at again; after it, it is current", () => {
    expect(needOf(want, record(second + 400), "posters")).toBe("old");
    expect(needOf(want, record(second + 1900), "posters")).toBe("old");
    expect(needOf(want, record(second + 5000), "posters")).toBe("ok");
  });
  test("another version is old, none is new", () => {
    expect(needOf({ ...want, version: "1767225700" }, record(second + 5000), "arts")).toBe("old");
    expect(needOf(want, undefined, "arts")).toBe("new");
  });
});
