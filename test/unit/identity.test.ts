/**
 * Identity beyond the name (issue 29): Stash's oshash (its pkg/hash/oshash, checked against
 * values computed independently, in Python's struct), and the rule "one candidate or none".
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { oshashOf, oshashOfFile } from "../../src/sync/oshash.ts";
import { identify, identifyItem, sameLength } from "../../src/sync/identity.ts";
import type { FileByFacts } from "../../src/stash/file-index.ts";
import { tempDir } from "../helpers.ts";

describe("oshash, as Stash computes it", () => {
  test("size plus the 64-bit word sums of the first and last 64 KiB, modulo 2^64, 16 hex digits", () => {
    const ones = new Uint8Array(65536).fill(1);
    expect(oshashOf(131072, ones, ones)).toBe("4040404040424000");
    expect(oshashOf(0, new Uint8Array(0), new Uint8Array(0))).toBeNull(); // Stash: "" for an empty file
    const file = join(tempDir(), "a.mp4");
    writeFileSync(
      file,
      Uint8Array.from({ length: 200_000 }, (_, i) => (i * 7 + 3) % 256),
    );
    expect(oshashOfFile(file)).toBe("60a0df1f5fa2cd40");
    expect(oshashOfFile(join(tempDir(), "missing.mp4"))).toBeNull();
  });
});

describe("one candidate or none", () => {
  const file = (scene_id: string, duration: number | null, oshash: string | null = null): FileByFacts => ({
    scene_id,
    path: `/data/${scene_id}.mp4`,
    size: 1000,
    duration,
    oshash,
  });
  test("the same size and a duration within a second is the scene; a second candidate makes it ambiguous", () => {
    expect(sameLength(60_000, [file("1", 60.9), file("2", 61.2), file("3", null)]).map((f) => f.scene_id)).toEqual([
      "1",
    ]);
    const one = identify(
      { path: "/p", size: 1000, durationMs: 60_000 },
      { filesBySize: () => [file("1", 60)], oshashOf: () => null },
    );
    expect(one).toEqual({ kind: "found", sceneId: "1", how: "size+duration" });
    // Two files of one scene are still one scene.
    const sameScene = identify(
      { path: "/p", size: 1000, durationMs: 60_000 },
      {
        filesBySize: () => [file("1", 60), file("1", 60.5)],
        oshashOf: () => null,
      },
    );
    expect(sameScene).toMatchObject({ kind: "found", sceneId: "1" });
    const two = { filesBySize: () => [file("1", 60, "aa"), file("2", 60, "bb")] };
    expect(identify({ path: "/p", size: 1000, durationMs: 60_000 }, { ...two, oshashOf: () => null }).kind).toBe(
      "ambiguous",
    );
    expect(identify({ path: "/p", size: 1000, durationMs: 60_000 }, { ...two, oshashOf: () => "bb" })).toEqual({
      kind: "found",
      sceneId: "2",
      how: "oshash",
    });
    expect(identify({ path: "/p", size: 1000, durationMs: 60_000 }, { ...two, oshashOf: () => "cc" }).kind).toBe(
      "ambiguous",
    );
    // Without a size or a duration from Plex, nothing is guessed.
    expect(identify({ path: "/p", size: null, durationMs: 60_000 }, { ...two, oshashOf: () => "bb" }).kind).toBe(
      "none",
    );
  });
});

describe("an item of several files", () => {
  const found = (sceneId: string) => ({ kind: "found" as const, sceneId, how: "size+duration" as const });
  const unsure = {
    kind: "ambiguous" as const,
    candidates: [
      { sceneId: "1", path: "/a" },
      { sceneId: "2", path: "/b" },
    ],
    why: "several",
  };
  test("a file a path places leaves it to the path; one scene found is the item's; two scenes are never guessed between", () => {
    expect(identifyItem([found("1"), { kind: "placed" }])).toBeNull();
    expect(identifyItem([found("1"), { kind: "none" }, found("1")])).toEqual(found("1"));
    expect(identifyItem([found("1"), unsure])).toEqual(found("1"));
    expect(identifyItem([found("1"), found("2")])).toMatchObject({
      kind: "ambiguous",
      candidates: [{ sceneId: "1" }, { sceneId: "2" }],
    });
    expect(identifyItem([{ kind: "none" }, unsure])).toEqual(unsure);
    expect(identifyItem([{ kind: "none" }])).toEqual({ kind: "none" });
  });
});
