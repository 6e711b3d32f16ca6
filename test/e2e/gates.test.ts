/**
 * What a match may claim (provider.matchOnly): with "organized,stashId", a full scan matches
 * exactly the scenes that are organized AND have a StashDB id; Fix Match still lists the
 * others, marked with why an automatic match refuses them.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { post, startWorld, type World } from "../helpers.ts";
import { plexPathFor } from "../../src/demo.ts";

let w: World;
beforeAll(async () => {
  w = await startWorld({ env: { PROVIDER_MATCH_ONLY: "organized,stashId" } });
});
afterAll(() => w.close());

describe("quality gates for automatic matches", () => {
  test("a scan matches exactly the organized scenes with a StashDB id; the rest stay unmatched", async () => {
    const report = await w.pms.scan("1", { concurrency: 16 });
    const passes = new Map<string, boolean>();
    for (const s of w.stash.library.scenes.values()) {
      for (const f of s.files) passes.set(plexPathFor(f.path), s.organized && s.stash_ids.length > 0);
    }
    const wrong = report.results.filter(
      (r) => Boolean("metadata" in r && r.metadata) !== (passes.get(r.file.path) ?? false),
    );
    expect(wrong.map((r) => r.file.path)).toEqual([]);
    expect([...passes.values()].filter(Boolean).length).toBeGreaterThan(10);
  });

  test("Fix Match lists a refused scene, marked with why", async () => {
    const scene = [...w.stash.library.scenes.values()].find((s) => !s.organized && s.title)!;
    const res = await post(`${w.app.url}/library/metadata/matches`, {
      type: 1,
      manual: 1,
      title: scene.title,
      filename: "Scenes/x/y.mp4",
    });
    const list = ((await res.json()) as any).MediaContainer.Metadata as { ratingKey: string; title: string }[];
    const listed = list.find((m) => m.ratingKey === scene.id)!;
    expect(listed.title).toContain("not organized");
  });
});
